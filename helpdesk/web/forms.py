"""WTForms base for every HTML form: CSRF bound to the browser's session cookie."""

from datetime import timedelta
from typing import Any, Self

from quart import current_app, request, session
from wtforms import Form
from wtforms.csrf.core import ValidationError
from wtforms.csrf.session import SessionCSRF


class _SessionCSRF(SessionCSRF):
    """SessionCSRF that refuses (instead of crashing) when the session has no CSRF secret yet."""

    def validate_csrf_token(self, form: Form, field: Any) -> None:
        if "csrf" not in self.session:
            raise ValidationError("Your session expired. Reload the page and try again.")
        super().validate_csrf_token(form, field)


class CsrfForm(Form):
    """Every form the app renders: a hidden csrf_token field checked on POST."""

    class Meta:
        csrf = True
        csrf_class = _SessionCSRF
        csrf_time_limit = timedelta(hours=12)

        @property
        def csrf_secret(self) -> bytes:
            return current_app.config["SECRET_KEY"].encode()

        @property
        def csrf_context(self) -> Any:
            return session

    @classmethod
    async def from_request(cls, **kwargs: Any) -> Self:
        """Bind the form to the submitted body on POST, or render it empty (or from `obj`)."""
        formdata = await request.form if request.method == "POST" else None
        return cls(formdata=formdata, **kwargs)
