"""The web app behind ``python app.py``: Chat and About for the public, Helpdesk and Evaluate for staff, an API.

``server.create_app`` puts it together on one FastAPI app: ``/`` (Chat, About), ``/staff/`` (Helpdesk, Evaluate,
optionally behind a login), ``POST /api/ask`` (JSON, described at ``/docs``) and ``/corpus/pages/`` (the bundled
pages that citations open). Each page's handlers are plain methods of a class in their own module, testable
without a browser; ``ui`` wires them to Gradio components.
"""
