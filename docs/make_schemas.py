"""Write the JSON Schemas of llmarch's JSON documents to docs/schemas/: python docs/make_schemas.py"""

import json
from pathlib import Path

from llmarch.compiler.schemas import DOCUMENTS, schema_of

FOLDER = Path(__file__).resolve().parent / "schemas"


def render(command: str) -> str:
    return json.dumps(schema_of(command), indent=2, sort_keys=True) + "\n"


def main() -> None:
    FOLDER.mkdir(exist_ok=True)
    for command in DOCUMENTS:
        (FOLDER / f"{command}.schema.json").write_text(render(command), encoding="utf-8")
    print(f"wrote {len(DOCUMENTS)} schemas to {FOLDER}")


if __name__ == "__main__":
    main()
