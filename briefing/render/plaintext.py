"""Plain text, such as an email's body: printed values are left as typed."""

from __future__ import annotations

from briefing.render.source import SourceFormat

FORMAT = SourceFormat(".txt", "email.txt", autoescape=False)
