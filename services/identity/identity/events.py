"""The events identity publishes: their contracts live in the shared library
(edu_common.contracts.identity), where every consumer takes them from too."""

from edu_common.contracts.identity import (
    ACCOUNT_CHANGED,
    ACCOUNT_LOCKED,
    ACCOUNT_REGISTERED,
    ALL,
    CODE_REQUESTED,
    CONSENT_CHANGED,
    PASSWORD_CHANGED,
)

EXCHANGES = sorted({e.exchange for e in ALL})

__all__ = [
    "ACCOUNT_CHANGED",
    "ACCOUNT_LOCKED",
    "ACCOUNT_REGISTERED",
    "ALL",
    "CODE_REQUESTED",
    "CONSENT_CHANGED",
    "EXCHANGES",
    "PASSWORD_CHANGED",
]
