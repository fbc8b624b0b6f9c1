"""HTML, such as an email's rich body: printed values are escaped, so no cell adds markup."""

from __future__ import annotations

from briefing.render.source import SourceFormat

FORMAT = SourceFormat(".html", "email.html", autoescape=True)
