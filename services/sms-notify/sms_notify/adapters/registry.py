"""The population registry, opened when first asked.

A worker or web process that never checks a parent needs neither the registry's file nor its
service: opening it at start would stop a deployment that does not set
``POPULATION_REGISTRY_URL`` from sending anything at all.
"""

from __future__ import annotations

import threading

from edu_common.registry import Person, PopulationRegistry, registry_from_url


class RegistryOnFirstUse:
    def __init__(self, url: str):
        self.url = url
        self._opened: PopulationRegistry | None = None
        self._lock = threading.Lock()

    def _registry(self) -> PopulationRegistry:
        with self._lock:
            if self._opened is None:
                self._opened = registry_from_url(self.url)
            return self._opened

    def find_person(self, iin: str) -> Person | None:
        return self._registry().find_person(iin)

    def phones_for(self, iin: str) -> list[str]:
        return self._registry().phones_for(iin)

    def children_of(self, iin: str) -> list[Person]:
        return self._registry().children_of(iin)
