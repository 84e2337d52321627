"""Who may do what with registry data. Referenced by `registry.roles.ensure_role_groups`."""


def _model_perms(app_label: str, model: str, actions=("view", "add", "change")) -> set[str]:
    return {f"{app_label}.{action}_{model}" for action in actions}


REGISTRY_MODELS = ["district", "licensetype", "issuer", "propertyunit", "holder", "purpose", "requestingorganisation"]

ROLE_PERMISSIONS = {
    "clerk": set().union(
        *(_model_perms("registry", m) for m in ["propertyunit", "holder"]),
        *(_model_perms("registry", m, ("view",)) for m in REGISTRY_MODELS),
    ),
    "approver": set().union(*(_model_perms("registry", m, ("view",)) for m in REGISTRY_MODELS)),
    "archivist": set().union(*(_model_perms("registry", m, ("view",)) for m in REGISTRY_MODELS)),
    "system_admin": set().union(
        *(
            _model_perms("registry", m)
            for m in ["district", "licensetype", "issuer", "purpose", "requestingorganisation"]
        ),
        *(_model_perms("registry", m, ("view",)) for m in ["organisationmember"]),
    ),
    "security_admin": _model_perms("registry", "organisationmember", ("view", "add", "change", "delete"))
    | {"auth.view_user", "auth.add_user", "auth.change_user", "auth.view_group"}
    # Sign-in lockouts (django-axes): deleting an attempt record lifts its lockout.
    | {"axes.view_accessattempt", "axes.delete_accessattempt", "axes.view_accessfailurelog", "axes.view_accesslog"},
    "audit_admin": set(),
    "org_admin": set(),
    "org_operator": set(),
}
