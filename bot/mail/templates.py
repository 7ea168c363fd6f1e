"""The e-mails' words: MAIL_TEMPLATES_FILE (bot/mail/default_templates.yml) read once, rendered with Jinja2,
HTML escaped and text not. A template naming a value that does not exist is an error, not a blank."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml
from jinja2 import Environment, StrictUndefined, Template, TemplateError
from markupsafe import Markup

from bot.mail.models import KINDS


class TemplatesInvalid(ValueError):
    pass


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class MailTemplates:
    layout_text: Template
    layout_html: Template
    kinds: dict[str, tuple[Template, Template, Template]]
    follow_up: dict[str, Template]

    def render(self, kind: str, values: dict[str, object]) -> Rendered:
        subject_t, text_t, html_t = self.kinds[kind]
        # One line, whatever the customer typed into the subject it is made from.
        subject = " ".join(subject_t.render(values).split())[:300]
        values = {**values, "how_to_follow_up": self.follow_up[values["follow_up_by"]].render(values)}
        text = self.layout_text.render({**values, "body": text_t.render(values).strip()})
        html = self.layout_html.render({**values, "subject_line": subject, "body": Markup(html_t.render(values))})
        return Rendered(subject=subject, text=text.strip() + "\n", html=html)


def load(path: Path) -> MailTemplates:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise TemplatesInvalid(f"cannot read the e-mail templates {path}: {error}") from None
    text_env = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
    html_env = Environment(undefined=StrictUndefined, autoescape=True)
    try:
        missing = [kind for kind in KINDS if not isinstance(data.get(kind), dict)
                   or not all(isinstance(data[kind].get(part), str) for part in ("subject", "text", "html"))]
        if missing or not isinstance(data.get("layout"), dict) or not isinstance(data.get("how_to_follow_up"), dict):
            incomplete = ", ".join(missing) or "layout or how_to_follow_up"
            raise TemplatesInvalid(f"{path} needs layout, how_to_follow_up and subject, text and html for "
                                   f"each of {', '.join(KINDS)} (missing or incomplete: {incomplete})")
        return MailTemplates(
            layout_text=text_env.from_string(data["layout"]["text"]),
            layout_html=html_env.from_string(data["layout"]["html"]),
            kinds={kind: (text_env.from_string(data[kind]["subject"]), text_env.from_string(data[kind]["text"]),
                          html_env.from_string(data[kind]["html"])) for kind in KINDS},
            follow_up={way: text_env.from_string(data["how_to_follow_up"][way]) for way in ("reply", "chat")})
    except (TemplateError, KeyError, AttributeError) as error:
        raise TemplatesInvalid(f"the e-mail templates in {path} do not read: {error}") from None


@lru_cache(maxsize=4)
def templates_at(path: Path) -> MailTemplates:
    return load(path)
