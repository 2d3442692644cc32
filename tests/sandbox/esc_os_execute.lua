-- expect: error
-- message: os is not available in the sandbox
-- line: 4
os.execute("touch /tmp/sdsim-sandbox-escaped")
