"""Whole-export screening and the SQL on FHIR view runner; engines are imported lazily."""
