"""Figures and documents (plots, PDFs, iCalendar) made from domain results; no web or database imports."""
