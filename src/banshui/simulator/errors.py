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


class Unavailable(Exception):
    """A server fault the bureau was told to cause: answered with HTTP 503."""

    message = "系统繁忙，请稍后再试"


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


def person_not_found() -> BureauError:
    # Transient (R11): the provincial bureau has not yet heard of the person.
    return BureauError(2060, "所查询的自然人信息不存在，请核验输入信息是否有误")


def slider_failed() -> BureauError:
    return BureauError(2050, "滑块验证未通过，请重新拖动滑块完成验证")


def real_name_mismatch() -> BureauError:
    # Shanghai's carrier real-name check refuses a sub-number (R10, the guide's Q6).
    return BureauError(
        2070,
        "姓名证件手机号不匹配。如您发生本人手机号实名认证未通过的情况，可于周一至周五，"
        "8:00-20:00(节假日除外)拨打021-962600咨询处理。"
        "目前系统暂不支持主副卡和集团业务中的号码使用人进行验证。",
    )


def face_check_pending() -> BureauError:
    return BureauError(2080, "人脸识别认证尚未完成，请扫描二维码完成认证后再试")


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


def slider_first() -> BureauError:
    return BureauError(2101, "请先完成滑块验证")


def slider_not_expected() -> BureauError:
    return BureauError(2101, "该登录流程无需滑块验证或已完成滑块验证")


def unknown_challenge() -> BureauError:
    return BureauError(2101, "滑块验证不存在或已失效，请重新登录")


def unknown_face_check() -> BureauError:
    return BureauError(2101, "人脸识别认证不存在或已失效")


def unknown_phone_request() -> BureauError:
    return BureauError(2101, "该手机号码添加申请不存在或已失效，请重新申请")


def phone_request_past_step() -> BureauError:
    return BureauError(2101, "该申请已完成短信验证，请勿重复操作")


def unknown(what: str, value: str) -> SetupError:
    return SetupError(404, f"There is no {what} {value!r}.")


def conflict(detail: str) -> SetupError:
    return SetupError(409, detail)


# The envelope of the login API: a request the bureau cannot trust is refused
# before any step looks at it.


def wrong_client(region_name: str) -> BureauError:
    return BureauError(2102, f"客户端标识有误，请从{region_name}电子税务局登录")


def stale_request() -> BureauError:
    return BureauError(2110, "请求时间戳已过期，请校准系统时间后重试")


def bad_signature() -> BureauError:
    return BureauError(2111, "请求签名校验失败")


def datagram_unreadable() -> BureauError:
    return BureauError(2112, "请求报文解密失败")


def unknown_channel() -> BureauError:
    return BureauError(2113, "安全通道不存在或已失效，请重新建立")


def replayed_request() -> BureauError:
    return BureauError(2114, "请求重复提交，已拒绝")


def session_key_unreadable() -> BureauError:
    return BureauError(2115, "会话密钥解密失败")
