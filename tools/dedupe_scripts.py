"""Sphinx extension: drop repeated <script> entries from each page.

With jupyter-book 1.0.4, Sphinx 7.4 and sphinx-thebe 0.3.1 the inline script that declares ``THEBE_JS_URL`` is emitted
twice on every page, and the browser reports "Identifier 'THEBE_JS_URL' has already been declared" as an uncaught
error (tools/check_book.py fails on it). This keeps the first of identical script entries (same file, same inline
body and attributes). Enabled from _config.yml (``local_extensions``).
"""


def _key(js):
    # an inline script has filename None or "" depending on who added it: the same script either way
    return getattr(js, "filename", str(js)) or "", tuple(sorted((getattr(js, "attributes", None) or {}).items()))


def dedupe_scripts(app, pagename, templatename, context, doctree):
    files = context.get("script_files")
    if not files:
        return
    seen, unique = set(), []
    for js in files:
        if _key(js) not in seen:
            seen.add(_key(js))
            unique.append(js)
    files[:] = unique


def setup(app):
    app.connect("html-page-context", dedupe_scripts, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
