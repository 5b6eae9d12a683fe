"""The approval chain in motion: routing a request's steps to approvers, recording decisions, ending
requests (into a grant, a denial or an expiry) and keeping every copy of the approval message up to
date. `decide`, `reroute_stranded` and `remind_and_escalate` own their transactions; the other
functions work inside the caller's. The SQL they run lives in bot/store (requests.py for requests,
steps and grants, approvals.py for approval tasks, decisions and the stranded and waiting steps).

    buttons      the value an Approve/Deny button carries, parsed strictly
    routing      who a step asks (manager, role holders, access admins) and the DMs that ask them
    deciding     one approver's decision, quorum, repeats, decisions past the deadline
    eligibility  what a decision checks again when it is made (the approver, then the requester)
    finishing    a request's final status, the grant it ends in, expiry
    notices      the requester's updates and every approver's copy of a step
    stranded     steps nobody asked can decide any more go to the access admins
    reminders    steps left unanswered remind their approvers, then escalate
    extending    an approved extension moves its grant's end
"""

from bot.services.approvals.buttons import ButtonValue, parse_button_value
from bot.services.approvals.deciding import MAX_REASON, UNCHANGED, decide
from bot.services.approvals.finishing import expire_request, finish_request, stop_request
from bot.services.approvals.notices import refresh_step_messages, tell_requester
from bot.services.approvals.reminders import remind_and_escalate
from bot.services.approvals.routing import start_step
from bot.services.approvals.stranded import reroute_stranded

__all__ = [
    "MAX_REASON",
    "UNCHANGED",
    "ButtonValue",
    "decide",
    "expire_request",
    "finish_request",
    "parse_button_value",
    "refresh_step_messages",
    "remind_and_escalate",
    "reroute_stranded",
    "start_step",
    "stop_request",
    "tell_requester",
]
