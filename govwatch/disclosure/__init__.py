"""Public disclosure (社会公开): the figures the public page shows and the open data downloads.

:mod:`govwatch.disclosure.open_data` holds the datasets, their queries and the suppression of
small counts; :mod:`govwatch.disclosure.periods` the periods (month, quarter, year) and their
stable codes. Faces (the /public pages) render what these return and nothing else.
"""
