"""The FHIR R4 boundary: reading and writing resources, bulk NDJSON, CDS Hooks."""
