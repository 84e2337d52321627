"""The action names of the audit chain (the contract in BRIEF.md), with their Chinese labels."""

ACTIONS = {
    "license.create_draft": "创建草稿",
    "license.update_draft": "修改草稿",
    "license.issue": "签发",
    "license.sign": "签章",
    "license.sign_failed": "签章失败",
    "license.cancel_request": "申请注销",
    "license.cancel_approve": "批准注销",
    "license.cancel_reject": "驳回注销",
    "license.cancel": "注销",
    "license.revoke": "撤销",
    "license.suspend": "暂停",
    "license.reinstate": "恢复",
    "license.replace": "换证/补证",
    "license.transfer": "转移",
    "license.file": "归档",
    "access.grant": "授权用证",
    "access.revoke": "撤回授权",
    "license.read": "用证查询",
    "license.download": "下载证照",
    "license.verify": "核验",
    "auth.login": "登录",
    "auth.login_failed": "登录失败",
    "auth.locked_out": "登录锁定",
    "audit.export": "导出审计记录",
    "audit.denied": "拒绝访问审计",
}

# The actions that are a use of a licence by someone else: what a holder sees in "who used my
# licence" (`audit.selectors.license_uses`).
USE_ACTIONS = ("license.read", "license.download", "license.verify")


def action_label(action: str) -> str:
    return ACTIONS.get(action, action)
