// Events tab: the notices of the running simulation (faults, recoveries, scaling, speed).
import { useSim } from "../store/sim";
import { fmtSimTime } from "./format";

export function Events() {
  const notices = useSim((s) => s.notices);
  if (!notices.length) {
    return (
      <div className="bp-empty">
        <strong>No events yet</strong>
        Faults, recoveries and scaling decisions of the run are listed here.
      </div>
    );
  }
  return (
    <div className="events" data-testid="events">
      {[...notices].reverse().map((n, i) => (
        <div className="event" key={i}>
          <span className="event-at">{fmtSimTime(n.at)}</span>
          <span className={`event-kind ${n.kind}`}>{n.kind}</span>
          <span>{n.text}</span>
        </div>
      ))}
    </div>
  );
}
