-- POSTs the content of $BODY_FILE (a FHIR JSON document, such as a transaction Bundle) each time.
local file = io.open(os.getenv("BODY_FILE"), "rb")
local body = file:read("*a")
file:close()
wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/fhir+json"
wrk.headers["Prefer"] = "return=minimal"
