"""The bureau's refusals, with the codes and Chinese texts the login site uses.

A business refusal is answered with HTTP 200 and `{"code", "message"}`, as the
real site does; only a server fault is a 5xx. Admin mistakes are another matter:
they are 4xx with one plain sentence, because only tests and the demo call them.
"""


class BureauError(Exception):
    """A business refusal of the login site."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message


class SetupError(Exception):
    """A refused admin request: the HTTP status and one plain sentence."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def unknown_taxpayer() -> BureauError:
    return BureauError(2018, "纳税人识别号有误，请核对后重新输入")


def code_locked() -> BureauError:
    return BureauError(2023, "验证码错误次数过多，请稍后再试")


def no_relation() -> BureauError:
    return BureauError(
        2034, "您与该企业不存在关联关系，请先到主管税务机关确认办税身份后再登录"
    )


def unconfirmed_relation() -> BureauError:
    return BureauError(
        2034, "您在该企业的办税身份尚未确认，请先到主管税务机关确认办税身份后再登录"
    )


def wrong_password() -> BureauError:
    return BureauError(2035, "账号或密码错误")


def not_registered() -> BureauError:
    return BureauError(2059, "用户未注册")


def no_default_phone() -> BureauError:
    return BureauError(2059, "该用户未设置默认手机号，请使用手机号码登录")


def daily_limit_reached() -> BureauError:
    return BureauError(2040, "该手机号码今日获取验证码次数已达上限，请明日再试")


def wrong_code(tries_left: int) -> BureauError:
    return BureauError(2041, f"验证码错误，您还可以尝试{tries_left}次")


def code_expired() -> BureauError:
    return BureauError(2042, "验证码已失效，请重新获取")


def session_ended() -> BureauError:
    return BureauError(2100, "会话已失效，请重新登录")


def unknown_flow() -> BureauError:
    return BureauError(2101, "登录流程不存在或已失效，请重新登录")


def code_not_verified() -> BureauError:
    return BureauError(2101, "请先完成短信验证码校验")


def flow_past_step() -> BureauError:
    return BureauError(2101, "该登录流程已完成短信验证，请勿重复操作")


def flow_finished() -> BureauError:
    return BureauError(2101, "该登录流程已结束，请重新登录")


def unknown(what: str, value: str) -> SetupError:
    return SetupError(404, f"There is no {what} {value!r}.")


def conflict(detail: str) -> SetupError:
    return SetupError(409, detail)
