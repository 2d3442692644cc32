/** The sdsim mark: two boxes and a link, in the current colour. */
export function Logo({ size = 22 }: { size?: number }) {
  return (
    <svg width={size} height={size} viewBox="0 0 24 24" aria-hidden="true" className="logo">
      <rect x="2" y="2" width="8" height="8" rx="2" fill="currentColor" />
      <rect x="14" y="14" width="8" height="8" rx="2" fill="currentColor" opacity="0.55" />
      <path d="M10 6h4a2 2 0 0 1 2 2v6" stroke="currentColor" strokeWidth="2" fill="none" />
    </svg>
  );
}
