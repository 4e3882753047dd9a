"""HTTP face of notifications: the inbox (`/v1/notifications`), the caller's email preferences
(`/v1/me/notification-preferences`) and the public unsubscribe link mails carry."""

from typing import Annotated
from uuid import UUID

from litestar import Controller, get, post, put
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK

from contracts.notifications import (
    NotificationOut,
    NotificationPage,
    PreferencesIn,
    PreferencesOut,
    ReadAllOut,
    UnsubscribedOut,
)
from services.notifications import service
from services.web import (
    DB,
    PUBLIC,
    AppSettings,
    CurrentCaller,
    Cursor,
    Limit,
    allow,
    problem_responses,
)

Unread = Annotated[bool, QueryParameter(description="only the unread notifications")]
Token = Annotated[
    str,
    QueryParameter(min_length=10, max_length=300, description="the signed token of the link"),
]
SIGNED_IN = [allow("merchant", "kol", "operator")]


class NotificationsController(Controller):
    path = "/v1/notifications"
    tags = ["notifications"]
    security = [{"BearerToken": []}]
    guards = SIGNED_IN

    @get(
        "/",
        operation_id="listNotifications",
        summary="The caller's notifications, newest first, with the count of unread ones",
        description="Each has a kind, a title and body in the caller's language, the object "
        "it is about and a link path for the frontend. New ones also arrive on "
        "`GET /v1/events/stream` as `notification.created`.",
        responses=problem_responses(400, 401, 403, 422),
    )
    async def list_notifications(
        self,
        caller: CurrentCaller,
        db: DB,
        unread: Unread = False,
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> NotificationPage:
        return await service.list_notifications(db, caller, unread, limit, cursor)

    @post(
        "/{notification_id:uuid}/read",
        status_code=HTTP_200_OK,
        operation_id="readNotification",
        summary="Mark one of the caller's notifications read",
        description=(
            "Records `notification.read` when the notification was unread; reading a read one "
            "changes nothing. 404 when the notification is not the caller's."
        ),
        responses=problem_responses(401, 403, 404),
    )
    async def read(
        self, caller: CurrentCaller, notification_id: FromPath[UUID], db: DB
    ) -> NotificationOut:
        return await service.read(db, caller, notification_id)

    @post(
        "/read-all",
        status_code=HTTP_200_OK,
        operation_id="readAllNotifications",
        summary="Mark every notification of the caller read",
        description=(
            "Answers how many were marked read and how many are left unread. Records "
            "`notification.read` when some were marked."
        ),
        responses=problem_responses(401, 403),
    )
    async def read_all(self, caller: CurrentCaller, db: DB) -> ReadAllOut:
        return await service.read_all(db, caller)


class PreferencesController(Controller):
    path = "/v1/me/notification-preferences"
    tags = ["notifications"]
    security = [{"BearerToken": []}]
    guards = SIGNED_IN

    @get(
        "/",
        operation_id="getNotificationPreferences",
        summary="The caller's email preferences per kind, daily digest and language",
        description=(
            "Every kind with whether it is mailed and whether it waits for the daily digest; "
            "`language` null means derived (a KOL's profile languages, else English)."
        ),
        responses=problem_responses(401, 403),
    )
    async def get_preferences(self, caller: CurrentCaller, db: DB) -> PreferencesOut:
        return await service.preferences(db, caller)

    @put(
        "/",
        operation_id="putNotificationPreferences",
        summary="Replace the caller's email preferences (the inbox always receives every kind)",
        description=(
            "Replaces the whole set: the kinds whose email is off, the daily digest (07:00 UTC, "
            "gathering the digestible kinds) and the language. Applies to notifications from now "
            "on; the inbox always receives every kind."
        ),
        responses=problem_responses(400, 401, 403, 422),
    )
    async def put_preferences(
        self, caller: CurrentCaller, data: JSONBody[PreferencesIn], db: DB
    ) -> PreferencesOut:
        return await service.save_preferences(db, caller, data)


class UnsubscribeController(Controller):
    path = "/v1/notification-preferences/unsubscribe"
    tags = ["notifications"]

    @get(
        "/",
        opt={PUBLIC: True},
        operation_id="unsubscribe",
        summary="Stop the emails of one kind, from the signed link in a mail (no login)",
        description=(
            "Changes only the preference the link names; using it again changes nothing more. A "
            "link that was altered or not issued by this service answers 403; 404 when its "
            "account no longer exists."
        ),
        responses=problem_responses(400, 403, 404, 422),
    )
    async def unsubscribe(self, token: Token, db: DB, settings: AppSettings) -> UnsubscribedOut:
        return await service.unsubscribe(db, settings, token)

    @post(
        "/",
        opt={PUBLIC: True},
        status_code=HTTP_200_OK,
        operation_id="unsubscribeOneClick",
        summary="The same, as mail programs' one-click unsubscribe (RFC 8058) sends it",
        description=(
            "Changes only the preference the link names, as `GET` does. A link that was altered or "
            "not issued by this service answers 403; 404 when its account no longer exists."
        ),
        responses=problem_responses(400, 403, 404, 422),
    )
    async def unsubscribe_one_click(
        self, token: Token, db: DB, settings: AppSettings
    ) -> UnsubscribedOut:
        return await service.unsubscribe(db, settings, token)


ROUTES = [NotificationsController, PreferencesController, UnsubscribeController]
