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
    """The notice a kicked member reads."""
    return QCoreApplication.translate("Errors", "The host removed you from the room.")
