"""What a service refuses, shown on the admin form that asked for it.

The admin's add and change pages save through the services, which check the business rules and
raise `ValidationError` keyed by field. Django's admin cannot show an error raised that late: the
clerk would get an error page, or a redirect to an empty form, and retype everything.
`ServiceRefusalsOnTheForm` catches the refusal (the admin's transaction has already rolled back,
so nothing of the attempt is written) and renders the same page again from the same POST data,
with the service's messages on the fields they name.
"""

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError


def _problems(exc: ValidationError) -> dict:
    return exc.message_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.messages}


class ServiceRefusalsOnTheForm:
    """ModelAdmin mixin; put it before `admin.ModelAdmin`. `save_model` / `save_related` let the
    service's ValidationError propagate."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as exc:
            if request.method != "POST" or hasattr(request, "_service_refusal"):
                raise
            request._service_refusal = exc
            # Second pass over the same POST: the form's clean() adds the refusal, so the admin
            # shows the bound form and inlines with their errors and saves nothing.
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        refusal = getattr(request, "_service_refusal", None)
        if refusal is None:
            return form

        def clean(self):
            cleaned = form.clean(self)
            for field, messages in _problems(refusal).items():
                self.add_error(field if field in self.fields else None, messages)
            return cleaned

        return type(form.__name__, (form,), {"clean": clean})
