"""What every package of the project uses: the settings object (``settings``), the error hierarchy (``errors``) and
the text helpers that make passages and questions comparable (``text``). It imports nothing of the project."""
