/** The server's sentences start in lower case ("wrong email or password"): shown capitalised. */
export function sentence(s: string): string {
  return s ? s.charAt(0).toUpperCase() + s.slice(1) : s;
}
