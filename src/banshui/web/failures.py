"""The page for a request that found no page (404) or broke (500), in Chinese.

Only pages get it (the console, the query page): the API answers in its JSON
error shape. Nothing of the error itself is shown; the log has it.
"""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from banshui.web.console.guard import HEADERS, Caller
from banshui.web.console.rendering import render
from banshui.web.templating import templates

QUERY_PATH = "/query"
TITLES = {404: "找不到页面", 500: "服务器出错"}
MESSAGES = {
    404: "没有这个页面，请检查地址是否输错。",
    500: (
        "服务器处理时出了问题，这次操作可能没有完成。请稍后再试；一直这样请联系管理员。"
    ),
}


def failure_page(request: Request, status: int) -> Response:
    """The query page's look under ``/query``, the console's everywhere else."""
    context = {"title": TITLES[status], "message": MESSAGES[status]}
    if request.url.path.startswith(QUERY_PATH):
        response: Response = templates.TemplateResponse(
            request, "query_error.html", context, status_code=status
        )
    else:
        # Set when the caller was signed in before it broke: the menu stays.
        caller: Caller | None = getattr(request.state, "caller", None)
        response = render(request, "console/error.html", caller, context, status)
    response.headers.update(HEADERS)
    return response
