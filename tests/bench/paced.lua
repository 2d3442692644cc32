-- wrk script for tests/bench/server.sh: each connection waits 2 ms before each request, so
-- that C connections send less than C * 500 requests/s (the latency and the timer add to
-- the 2 ms: about 4 ms per request is usual, so 24 connections make about 5,000 requests/s).
function delay()
  return 2
end
