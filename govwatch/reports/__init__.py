"""Documents: the supervision notice (电子监察通报) and the evaluation notice, as DOCX
(GB/T 9704-2012 layout), PDF (LibreOffice) and XLSX (one sheet per table)."""
