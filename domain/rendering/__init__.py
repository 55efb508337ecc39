"""The one path from an invoice to what its customer reads: document (documents.py) ->
template variables (variables.py) -> HTML in Jinja's sandbox (templating.py) -> PDF through
the PdfRenderer port (renderer.py), plus the invoice email (email.py). The API, the email
and the preview server all render through here."""
