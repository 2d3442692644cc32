// Home: the user's projects as cards (name, last update, component count) with create,
// open, rename, duplicate and delete; an empty state that points at templates.
import { useEffect, useState } from "react";
import type { Project } from "../api/types";
import { useAuth } from "../store/auth";
import { THUMB_H, THUMB_W, useProjects, type CardInfo } from "../store/projects";
import { ConfirmDialog, PromptDialog } from "../ui/Modal";
import { EmptyState, Spinner } from "../ui/EmptyState";
import { relativeTime } from "../ui/time";
import { toast } from "../ui/toast";
import { navigate } from "./route";

type Dialog =
  | { kind: "create" }
  | { kind: "rename"; project: Project }
  | { kind: "delete"; project: Project }
  | null;

export function ProjectsScreen() {
  const { projects, total, loading, error, load, loadMore, create, rename, duplicate, remove } =
    useProjects();
  useMinuteTick(); // "Edited 5 minutes ago" stays true while the page is open
  const user = useAuth((s) => s.user);
  const loadMe = useAuth((s) => s.loadMe);
  const [dialog, setDialog] = useState<Dialog>(null);
  const [loaded, setLoaded] = useState(false);
  const [filter, setFilter] = useState("");
  const needle = filter.trim().toLowerCase();
  const shown = needle ? projects.filter((p) => p.name.toLowerCase().includes(needle)) : projects;

  useEffect(() => {
    load().finally(() => setLoaded(true));
    loadMe().catch(() => undefined);
  }, [load, loadMe]);

  const open = (p: Project) => navigate({ name: "editor", projectId: p.id });

  const onDuplicate = async (p: Project) => {
    try {
      const copy = await duplicate(p.id, copyName(p.name));
      toast.success(`Duplicated as “${copy.name}”`);
      refreshLimits();
    } catch (e) {
      toast.error(e);
    }
  };

  const refreshLimits = () => void loadMe().catch(() => undefined);
  const limits = user?.limits;

  return (
    <div className="page">
      <div className="page-header">
        <div>
          <h1 className="page-title">Projects</h1>
          <div className="page-sub" data-testid="projects-count">
            {limits && limits.maxProjects >= 0
              ? `${total} of ${limits.maxProjects} projects on the ${user?.subscriptionTier ?? ""} plan`
              : `${total} ${total === 1 ? "project" : "projects"}`}
          </div>
        </div>
        <div className="page-actions">
          {projects.length > 0 && (
            <div className="search">
              <SearchIcon />
              <input className="input search-input search-narrow" type="search"
                     placeholder="Filter projects" value={filter}
                     onChange={(e) => setFilter(e.target.value)} aria-label="Filter projects"
                     data-testid="project-filter" />
            </div>
          )}
          <button className="btn" onClick={() => navigate({ name: "templates" })}
                  data-testid="browse-templates">
            Browse templates
          </button>
          <button className="btn btn-primary" onClick={() => setDialog({ kind: "create" })}
                  data-testid="project-new">
            <PlusIcon /> New project
          </button>
        </div>
      </div>

      {error && projects.length === 0 ? (
        <EmptyState title="Could not load your projects" tone="error" testId="projects-error"
                    action={<button className="btn" onClick={() => load()}>Try again</button>}>
          {error}
        </EmptyState>
      ) : !loaded && loading ? (
        <Spinner label="Loading projects" />
      ) : projects.length === 0 ? (
        <EmptyState
          title="No projects yet"
          testId="projects-empty"
          action={
            <div className="row gap">
              <button className="btn btn-primary" onClick={() => setDialog({ kind: "create" })}>
                New blank project
              </button>
              <button className="btn" onClick={() => navigate({ name: "templates" })}>
                Start from a template
              </button>
            </div>
          }
        >
          Start with a blank canvas, or from a template like an e-commerce checkout or a
          URL shortener.
        </EmptyState>
      ) : shown.length === 0 ? (
        <EmptyState title="No projects match" testId="projects-no-match">
          {`Nothing is called “${filter.trim()}”.`}
        </EmptyState>
      ) : (
        <div className="card-grid" data-testid="project-list">
          {shown.map((p) => (
            <ProjectCard
              key={p.id}
              project={p}
              onOpen={() => open(p)}
              onRename={() => setDialog({ kind: "rename", project: p })}
              onDuplicate={() => onDuplicate(p)}
              onDelete={() => setDialog({ kind: "delete", project: p })}
            />
          ))}
        </div>
      )}
      {!needle && projects.length > 0 && projects.length < total && (
        <div className="more">
          <button className="btn" onClick={() => loadMore().catch((e) => toast.error(e))}
                  data-testid="project-more">
            Show more ({total - projects.length})
          </button>
        </div>
      )}

      {dialog?.kind === "create" && (
        <PromptDialog
          title="New project"
          label="Name"
          initial="Untitled design"
          confirmLabel="Create"
          onClose={() => setDialog(null)}
          onSubmit={async (name) => {
            const p = await create(name);
            refreshLimits();
            open(p);
          }}
        />
      )}
      {dialog?.kind === "rename" && (
        <PromptDialog
          title="Rename project"
          label="Name"
          initial={dialog.project.name}
          confirmLabel="Rename"
          onClose={() => setDialog(null)}
          onSubmit={async (name) => {
            await rename(dialog.project.id, name);
          }}
        />
      )}
      {dialog?.kind === "delete" && (
        <ConfirmDialog
          title="Delete project?"
          danger
          confirmLabel="Delete"
          message={
            <>
              <span className="strong">{dialog.project.name}</span> and its design will be
              deleted. This cannot be undone.
            </>
          }
          onClose={() => setDialog(null)}
          onConfirm={async () => {
            try {
              await remove(dialog.project.id);
              refreshLimits();
            } catch (e) {
              toast.error(e);
              throw e;
            }
          }}
        />
      )}
    </div>
  );
}

function useMinuteTick() {
  const [, setTick] = useState(0);
  useEffect(() => {
    const t = setInterval(() => setTick((n) => n + 1), 60_000);
    return () => clearInterval(t);
  }, []);
}

function copyName(name: string) {
  const n = `${name} (copy)`;
  return n.length > 200 ? n.slice(0, 200) : n;
}

function ProjectCard({ project, onOpen, onRename, onDuplicate, onDelete }: {
  project: Project;
  onOpen(): void;
  onRename(): void;
  onDuplicate(): void;
  onDelete(): void;
}) {
  const count = useProjects((s) => s.counts[project.id]);
  const fetchCount = useProjects((s) => s.fetchCount);
  useEffect(() => {
    void fetchCount(project);
  }, [fetchCount, project]);

  return (
    <div className="card project-card" data-testid="project-card" data-project-id={project.id}>
      <button className="card-main" onClick={onOpen} data-testid="project-open"
              aria-label={`Open ${project.name}`}>
        <div className="card-thumb" aria-hidden="true">
          <Thumb info={count} />
        </div>
        <div className="card-body">
          <div className="card-title" data-testid="project-name" title={project.name}>
            {project.name}
          </div>
          <div className="card-meta">
            <span data-testid="project-updated">Edited {relativeTime(project.updatedAt)}</span>
            {count && (
              <>
                <span className="dot">·</span>
                <span data-testid="project-components">
                  {count.count} {count.count === 1 ? "component" : "components"}
                </span>
              </>
            )}
          </div>
        </div>
      </button>
      <div className="card-actions">
        <button className="icon-btn" onClick={onRename} title="Rename"
                aria-label={`Rename ${project.name}`} data-testid="project-rename">
          <PenIcon />
        </button>
        <button className="icon-btn" onClick={onDuplicate} title="Duplicate"
                aria-label={`Duplicate ${project.name}`} data-testid="project-duplicate">
          <CopyIcon />
        </button>
        <button className="icon-btn icon-btn-danger" onClick={onDelete} title="Delete"
                aria-label={`Delete ${project.name}`} data-testid="project-delete">
          <TrashIcon />
        </button>
      </div>
    </div>
  );
}

/** A sketch of the design (its components and edges), so cards are told apart at a glance. */
export function Thumb({ info }: { info?: CardInfo }) {
  if (!info || info.nodes.length === 0) return null;
  const { nodes, links, nodeW: w, nodeH: h } = info;
  const r = Math.min(3, h / 4);
  return (
    <svg viewBox={`0 0 ${THUMB_W} ${THUMB_H}`} width="100%" height="100%"
         preserveAspectRatio="xMidYMid meet">
      {links.map(([a, b], i) => (
        <line key={i} x1={nodes[a].x + w / 2} y1={nodes[a].y + h / 2} x2={nodes[b].x + w / 2}
              y2={nodes[b].y + h / 2} stroke="#b4b9c4" strokeWidth="1" />
      ))}
      {nodes.map((n, i) => (
        <rect key={i} x={n.x} y={n.y} width={w} height={h} rx={r} fill="#fff"
              stroke="#8f95a3" strokeWidth="1" />
      ))}
    </svg>
  );
}

export function SearchIcon() {
  return (
    <svg className="search-icon" width="14" height="14" viewBox="0 0 16 16" aria-hidden="true">
      <circle cx="7" cy="7" r="4.5" stroke="currentColor" strokeWidth="1.5" fill="none" />
      <path d="M10.5 10.5L14 14" stroke="currentColor" strokeWidth="1.5" strokeLinecap="round" />
    </svg>
  );
}

export function PlusIcon() {
  return (
    <svg width="14" height="14" viewBox="0 0 16 16" aria-hidden="true">
      <path d="M8 3v10M3 8h10" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" />
    </svg>
  );
}
function PenIcon() {
  return (
    <svg width="14" height="14" viewBox="0 0 16 16" aria-hidden="true">
      <path d="M11 2.5l2.5 2.5L6 12.5H3.5V10z" stroke="currentColor" strokeWidth="1.4"
            fill="none" strokeLinejoin="round" />
    </svg>
  );
}
function CopyIcon() {
  return (
    <svg width="14" height="14" viewBox="0 0 16 16" aria-hidden="true">
      <rect x="5" y="5" width="8.5" height="8.5" rx="1.5" stroke="currentColor"
            strokeWidth="1.4" fill="none" />
      <path d="M11 3.5V3a1 1 0 0 0-1-1H3.5a1 1 0 0 0-1 1v6.5a1 1 0 0 0 1 1H4"
            stroke="currentColor" strokeWidth="1.4" fill="none" />
    </svg>
  );
}
function TrashIcon() {
  return (
    <svg width="14" height="14" viewBox="0 0 16 16" aria-hidden="true">
      <path d="M3 4.5h10M6.5 4.5V3h3v1.5M4.5 4.5l.7 8.5h5.6l.7-8.5" stroke="currentColor"
            strokeWidth="1.4" fill="none" strokeLinejoin="round" />
    </svg>
  );
}
