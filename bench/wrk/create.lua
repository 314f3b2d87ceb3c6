-- POST /fhir/Observation with a small Synthea-like Observation (the server assigns the id).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/fhir+json"
wrk.body = [[{"resourceType":"Observation","status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs","display":"vital-signs"}]}],"code":{"coding":[{"system":"http://loinc.org","code":"8302-2","display":"Body Height"}],"text":"Body Height"},"subject":{"reference":"Patient/bench"},"effectiveDateTime":"2020-01-01T10:00:00+00:00","issued":"2020-01-01T10:00:00.000+00:00","valueQuantity":{"value":172.50,"unit":"cm","system":"http://unitsofmeasure.org","code":"cm"}}]]
