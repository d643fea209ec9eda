"""Error codes as a person reads them: what happened and what to do next, translated."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication

from roomcall.protocol.errors import ErrorCode


def describe_error(code: int | None, server_url: str = "") -> str:
    """One or two sentences for error ``code`` (a Qiniu code; None for an unknown failure).

    ``server_url`` names the server in the "unreachable" text.
    """
    # Literal QCoreApplication.translate calls: pyside6-lupdate only finds those.
    tr = QCoreApplication
    if code == ErrorCode.TOKEN_EXPIRED:
        return tr.translate("Errors", "This invite has expired. Ask the host for a new one.")
    if code == ErrorCode.TOKEN_ERROR:
        return tr.translate("Errors", "This invite is not valid for this server. "
                            "Ask the host for a new one.")
    if code == ErrorCode.INVITE_NOT_FOUND:
        return tr.translate("Errors", "This invite link no longer works: the host revoked it, "
                            "or the call has ended. Ask the host for a new one.")
    if code == ErrorCode.INVITE_EXPIRED:
        return tr.translate("Errors", "This invite link has expired. Ask the host for a new "
                            "one.")
    if code == ErrorCode.INVITE_USED_UP:
        return tr.translate("Errors", "This invite link has been used as often as the host "
                            "allowed. Ask the host for a new one.")
    if code == ErrorCode.RATE_LIMITED:
        return tr.translate("Errors", "Too many attempts to join from this computer. Wait a "
                            "minute, then try again.")
    if code == ErrorCode.INVALID_PARAMETER:
        return tr.translate("Errors", "The server did not accept that name. Use at most 128 "
                            "characters.")
    if code == ErrorCode.ROOM_FULL:
        return tr.translate("Errors", "The room is full. Try again when someone has left.")
    if code == ErrorCode.USER_ALREADY_EXIST:
        return tr.translate("Errors", "You are already in this room from another window "
                            "or device.")
    if code == ErrorCode.ROOM_CLOSED:
        return tr.translate("Errors", "The host closed the room.")
    if code == ErrorCode.KICKED_OUT:
        return removed_by_host_text()
    if code == ErrorCode.AUTH_FAILED:
        where = server_url or tr.translate("Errors", "the room server")
        return tr.translate("Errors", "Could not reach {server}. Check the address and that "
                            "the server is running.").format(server=where)
    if code == ErrorCode.RECONNECT_FAILED:
        return tr.translate("Errors", "The connection to the room was lost. Join again to "
                            "continue.")
    if code == ErrorCode.SIGNALLING_TIMEOUT:
        return tr.translate("Errors", "The room server stopped answering. Join again to "
                            "continue.")
    if code == ErrorCode.NO_PERMISSION:
        return tr.translate("Errors", "Only the host can do that.")
    if code == ErrorCode.CAMERA_OPEN_FAILED:
        return tr.translate("Errors", "No camera could be opened. You can still join without "
                            "video.")
    if code == ErrorCode.SCREEN_CAPTURE_FAILED:
        return tr.translate("Errors", "The screen or window could not be captured. It may "
                            "have closed; pick it again.")
    if code == ErrorCode.MICROPHONE_OPEN_FAILED:
        return tr.translate("Errors", "No microphone could be opened. You can still join and "
                            "listen.")
    if code == ErrorCode.SPEAKER_ERROR:
        return tr.translate("Errors", "The speaker could not be used. Pick another one in the "
                            "room panel.")
    if code is None:
        return tr.translate("Errors", "Something went wrong. Please try again.")
    return tr.translate("Errors", "Something went wrong (error {code}). Please try "
                        "again.").format(code=code)


def removed_by_host_text() -> str:
    """The notice a removed member reads, and the refusal when they try to come back."""
    return QCoreApplication.translate("Errors", "The host removed you from this room. You can "
                                      "join it again only if the host lets you back in.")


def closed_text(info: object) -> str | None:
    """What to tell a person whose session the server ended (``ConnectionInfo``), or None
    when its reason says nothing finer than its error code.

    A replaced session is checked first: its reason is KICKED_OUT (10006) as in Qiniu, but
    nobody removed the person.
    """
    tr = QCoreApplication
    if getattr(info, "replaced", False):
        return tr.translate("Errors", "You joined this room from another window.")
    if getattr(info, "removed_by_host", False):
        return removed_by_host_text()
    if getattr(info, "ended_by_host", False):
        return tr.translate("Errors", "The host ended the call.")
    if getattr(info, "server_stopped", False):
        return tr.translate("Errors", "The room server stopped, so the call ended.")
    return None
