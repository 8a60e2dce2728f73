"""The nine Pact acts from ../shared/reference as Markdown files (one section per article), for benchmarks only."""

from __future__ import annotations

import json
from pathlib import Path

PACT_DIR = Path(__file__).resolve().parents[2] / "shared" / "reference" / "pact-legal-texts-2024"
ACTS = ("ammr", "apr", "rbpr", "cfmr", "eurodac", "sr", "qr", "urfa", "rcd")


def available() -> bool:
    """Whether the shared reference texts are beside the checkout."""
    return (PACT_DIR / "index.json").exists()


def load(act: str) -> dict[str, object]:
    """One act's JSON."""
    data: dict[str, object] = json.loads((PACT_DIR / f"{act}.json").read_text(encoding="utf-8"))
    return data


def eli(celex: str) -> str:
    """The ELI address of a 2024 regulation or directive from its CELEX number (32024R1348 -> .../reg/2024/1348/oj)."""
    kind = {"R": "reg", "L": "dir"}[celex[5]]
    return f"https://eur-lex.europa.eu/eli/{kind}/{celex[1:5]}/{int(celex[6:])}/oj"


def write_markdown(folder: Path) -> list[Path]:
    """Write each act as Markdown with front matter: '# short name', '## Article N - subject', its paragraphs."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for act in ACTS:
        data = load(act)
        front = (
            f"---\ntitle: {data['shortName']}\nurl: {eli(str(data['celex']))}\nlanguage: en\ndoctype: legal act\n---\n"
        )
        lines = [f"# {data['shortName']}"]
        for article in data["articles"]:  # type: ignore[attr-defined]
            subject = article.get("subject") or ""
            lines.append(f"## Article {article['number']} - {subject}".rstrip(" -"))
            content = str(article.get("content") or "")
            if subject and content.startswith(subject):
                content = content[len(subject) :]
            lines.extend(p.strip() for p in content.split("\n") if p.strip())
        path = folder / f"{act}.md"
        path.write_text(front + "\n\n".join(lines) + "\n", encoding="utf-8")
        paths.append(path)
    return paths
