"""HTTP face of reports: a brief's campaign report, as JSON or as CSV for spreadsheets."""

from typing import Literal
from uuid import UUID

from litestar import Controller, Response, get
from litestar.params import FromPath, FromQuery

from contracts.reports import BriefReport
from services.errors import Forbidden
from services.reports import rules, service
from services.web import DB, CurrentCaller, allow, problem_responses


class ReportsController(Controller):
    path = "/v1/briefs/{brief_id:uuid}/report"
    tags = ["reports"]
    security = [{"BearerToken": []}, {"ApiKey": []}]

    @get(
        "/",
        guards=[allow("merchant", scope="reports:read")],
        operation_id="getBriefReport",
        summary="The campaign report: spend, clicks, conversions, GMV, ROI per deal and in "
        "total, against the plan, and the funnel",
        description=(
            "`?format=csv` answers `text/csv`: one line per deal, then the total. 404 when the "
            "brief is not the caller's merchant's."
        ),
        responses=problem_responses(400, 401, 403, 404, 422),
    )
    async def report(
        self,
        caller: CurrentCaller,
        brief_id: FromPath[UUID],
        db: DB,
        format: FromQuery[Literal["json", "csv"]] = "json",
    ) -> Response[BriefReport]:
        if caller.merchant_id is None:
            raise Forbidden("only the brief's merchant reads its report")
        report = await service.brief_report(db, caller.merchant_id, brief_id)
        if format == "csv":
            return Response(
                rules.to_csv(report),  # type: ignore[arg-type]
                media_type="text/csv",  # Litestar adds `charset=utf-8`
                headers={"Content-Disposition": f'attachment; filename="report-{brief_id}.csv"'},
            )
        return Response(report)


ROUTES = [ReportsController]
