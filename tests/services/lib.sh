# Shared by postgres.sh and redis.sh: free loopback ports and running commands as a user.

# A TCP port on 127.0.0.1 that nothing listens on now (checked by trying to connect).
free_port() {
  local p i
  for i in $(seq 1 50); do
    p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 30000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  echo "no free port found" >&2
  return 1
}

# Waits until something accepts connections on 127.0.0.1:PORT (up to ~10 s).
wait_port() {
  local i
  for i in $(seq 1 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}
