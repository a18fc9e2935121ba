"""Hash-chained audit trail: every write to a business row becomes an event (ARCHITECTURE 4.5).

Each record's events form their own chain, `hash = sha256(prev || canonical header ||
payload_hash)`, so writes to different records never wait on one chain head. A daily anchor per
workspace hashes that day's chain heads. `flask suite verify-audit` names the first broken link.
"""

from suite.audit.models import AuditAnchor, AuditEvent
from suite.audit.recorder import acting_as, current_actor

__all__ = ["AuditAnchor", "AuditEvent", "acting_as", "current_actor"]
