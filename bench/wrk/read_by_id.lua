-- GET /fhir/<Type/id> cycling through the ids listed (one "Type/id" per line) in $IDS_FILE.
local ids = {}
for line in io.lines(os.getenv("IDS_FILE")) do ids[#ids + 1] = line end
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", "/fhir/" .. ids[(i % #ids) + 1])
end
