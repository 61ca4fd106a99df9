"""One-time codes: e-mail confirmation, SMS login, password reset.

A challenge holds one live code at a time. Only an HMAC of the code is kept,
keyed by a server-side pepper and bound to the challenge id, so a leaked store
neither reveals codes nor lets a hash from one challenge be replayed on another.
The state is immutable: every operation returns a new CodeState that the
caller saves (atomically, so that parallel guesses cannot share one attempt).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import Enum

CODE_LENGTH = 6
CODE_TTL = timedelta(minutes=10)
MAX_ATTEMPTS = 5
RESEND_INTERVAL = timedelta(seconds=60)
MAX_SENDS = 5
# 128 bits: a shorter pepper would let a leaked hash be brute-forced offline
# together with the pepper itself.
MIN_PEPPER_BYTES = 16


class CheckResult(Enum):
    OK = "ok"
    WRONG = "wrong"
    EXPIRED = "expired"
    EXHAUSTED = "exhausted"  # too many wrong tries: the code is dead
    USED = "used"  # the code was already accepted once: a replay


class ResendRefused(ValueError):
    """resend() called when can_resend() says no; `retry_after` as it said."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"resend refused; retry after {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class CodeState:
    code_hash: str
    issued_at: datetime  # when the current code was made
    expires_at: datetime
    attempts: int  # wrong tries against the current code
    sends: int  # codes sent for this challenge, the first one included
    last_sent_at: datetime
    used_at: datetime | None = None


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


def generate_code() -> str:
    return f"{secrets.randbelow(10**CODE_LENGTH):0{CODE_LENGTH}d}"


def hash_code(code: str, pepper: bytes, challenge_id: str) -> str:
    """HMAC-SHA256 (hex) of the code, keyed by the pepper, bound to the challenge."""
    if len(pepper) < MIN_PEPPER_BYTES:
        raise ValueError(f"pepper must be at least {MIN_PEPPER_BYTES} bytes")
    # Length prefix keeps (challenge_id, code) pairs from colliding.
    message = f"{len(challenge_id)}:{challenge_id}:{code}".encode()
    return hmac.new(pepper, message, hashlib.sha256).hexdigest()


def code_matches(code: str, code_hash: str, pepper: bytes, challenge_id: str) -> bool:
    """Constant-time comparison of an entered code with a stored hash."""
    return hmac.compare_digest(hash_code(code, pepper, challenge_id), code_hash)


def _fresh(pepper: bytes, challenge_id: str) -> tuple[str, str]:
    code = generate_code()
    return code, hash_code(code, pepper, challenge_id)


def new_code(now: datetime, pepper: bytes, challenge_id: str) -> tuple[str, CodeState]:
    """A first code for a challenge; the caller sends `code` and keeps only the state."""
    _require_aware(now, "now")
    code, code_hash = _fresh(pepper, challenge_id)
    state = CodeState(
        code_hash=code_hash,
        issued_at=now,
        expires_at=now + CODE_TTL,
        attempts=0,
        sends=1,
        last_sent_at=now,
        used_at=None,
    )
    return code, state


def attempts_left(state: CodeState) -> int:
    return max(0, MAX_ATTEMPTS - state.attempts)


def check(
    state: CodeState, code: str, now: datetime, pepper: bytes, challenge_id: str
) -> tuple[CheckResult, CodeState]:
    """Check an entered code. Only a WRONG answer costs an attempt.

    After MAX_ATTEMPTS wrong tries every further check is EXHAUSTED, even with
    the right code. A code is valid for CODE_TTL: at exactly issued_at + CODE_TTL
    it is EXPIRED.
    """
    _require_aware(now, "now")
    if state.used_at is not None:
        return CheckResult.USED, state
    if state.attempts >= MAX_ATTEMPTS:
        return CheckResult.EXHAUSTED, state
    if now >= state.expires_at:
        return CheckResult.EXPIRED, state
    entered = code.strip()
    well_formed = len(entered) == CODE_LENGTH and entered.isascii() and entered.isdigit()
    # The hash is compared even for malformed input so both paths take alike.
    matches = code_matches(entered, state.code_hash, pepper, challenge_id)
    if well_formed and matches:
        return CheckResult.OK, replace(state, used_at=now)
    return CheckResult.WRONG, replace(state, attempts=state.attempts + 1)


def _ceil_seconds(delta: timedelta) -> int:
    return max(0, math.ceil(delta.total_seconds()))


def can_resend(state: CodeState, now: datetime) -> tuple[bool, int]:
    """Whether a new code may be sent now, and if not, in how many seconds.

    (False, 0) means never for this challenge (already used, or MAX_SENDS
    reached): the person has to start over.
    """
    _require_aware(now, "now")
    if state.used_at is not None or state.sends >= MAX_SENDS:
        return False, 0
    wait = state.last_sent_at + RESEND_INTERVAL - now
    if wait > timedelta(0):
        return False, _ceil_seconds(wait)
    return True, 0


def resend(
    state: CodeState, now: datetime, pepper: bytes, challenge_id: str
) -> tuple[str, CodeState]:
    """A new code replacing the old one: fresh TTL, attempts reset, one more send.

    Raises ResendRefused when can_resend() would say no.
    """
    allowed, retry_after = can_resend(state, now)
    if not allowed:
        raise ResendRefused(retry_after)
    code, code_hash = _fresh(pepper, challenge_id)
    new_state = replace(
        state,
        code_hash=code_hash,
        issued_at=now,
        expires_at=now + CODE_TTL,
        attempts=0,
        sends=state.sends + 1,
        last_sent_at=now,
        used_at=None,
    )
    return code, new_state
