"""Forms of the dossier: they check the shape of the input; what a file is, is decided by
storage.py from its content."""

from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from mediation.documents.dossier import KIND_LABELS, DossierEntry
from mediation.web.forms import Form
from mediation.web.language import lazy_gettext as _l


def _file_label(entry: DossierEntry) -> str:
    return f"{entry.filename} · {KIND_LABELS[entry.kind]} · {entry.type_label}"


class UploadForm(Form):
    file = FileField(
        _l("File"),
        validators=[FileRequired(_l("Choose a file to upload."))],
        description=_l("PDF, JPEG, PNG, DOCX or XLSX, up to 20 MB."),
    )
    kind = SelectField(
        _l("Kind of paper"),
        choices=[SelectChoice(code, label) for code, label in KIND_LABELS.items()],
        default="evidence",
    )
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])
    replaces = SelectField(_l("Replaces an earlier file"), validate_choice=True)

    def offer_replacements(self, entries: list[DossierEntry]) -> None:
        """The current files of the case, any of which the new one may supersede."""
        self.replaces.choices = [SelectChoice("", _l("— none —"))] + [
            SelectChoice(str(e.id), _file_label(e)) for e in entries if e.superseded_at is None
        ]

    @property
    def replaces_id(self) -> int | None:
        return int(self.replaces.data) if self.replaces.data else None


class SupersedeForm(Form):
    """A button: the CSRF token is all it carries."""


class HandedOverForm(Form):
    attachments = SelectMultipleField(_l("Files handed to the court"), coerce=int)
    # The list as the user first saw it: a save over someone else's change is refused.
    seen = HiddenField()

    def offer(self, entries: list[DossierEntry], chosen: list[int]) -> None:
        self.attachments.choices = [
            SelectChoice(e.id, _file_label(e))
            for e in entries
            if e.superseded_at is None or e.id in chosen
        ]

    @property
    def seen_ids(self) -> list[int]:
        return [int(part) for part in (self.seen.data or "").split(",") if part.isdigit()]
