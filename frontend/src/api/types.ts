// Shapes of the server's JSON answers (docs/http-api.md, /work/notes/plan2.md). Times are
// milliseconds since the Unix epoch.

export interface UserLimits {
  maxProjects: number;
  projectsUsed: number;
  maxConcurrentSimulations: number;
  maxSimulationDurationS: number;
  maxComponentsPerProject: number;
}

export interface User {
  id: string;
  email: string;
  role: string;
  subscriptionTier: string;
  name?: string;
  firstName?: string;
  lastName?: string;
  createdAt: number;
  lastLogin?: number;
  limits?: UserLimits;
}

/** Answer of register, login and refresh. */
export interface Session {
  token: string;
  refreshToken: string;
  expiresIn: number;
  user: User;
}

/** The design document (docs/design-format.md); the editor owns its details. */
export interface DesignDoc {
  version: number;
  name?: string;
  description?: string;
  components: Array<{ id: string; type: string; x?: number; y?: number; [k: string]: unknown }>;
  edges?: Array<Record<string, unknown>>;
  [k: string]: unknown;
}

export interface Project {
  id: string;
  name: string;
  description?: string | null;
  version: number;
  isPublic: boolean;
  forkedFrom?: string | null;
  templateId?: string | null;
  createdAt: number;
  updatedAt: number;
  /** Present on single-project answers, absent in lists. */
  design?: DesignDoc;
}

export interface ProjectList {
  projects: Project[];
  total: number;
  limit: number;
  offset: number;
}

export interface Template {
  id: string;
  name: string;
  category: string;
  description: string;
  components: number;
  usageCount: number;
  design?: DesignDoc;
}

export interface ParamSpec {
  type: "int" | "number" | "string" | "enum" | "bool" | "dist" | "object";
  default?: unknown;
  min?: number;
  max?: number;
  unit?: string;
  help?: string;
  values?: string[];
  fields?: Record<string, ParamSpec>;
}

/** One entry of GET /api/components. */
export interface ComponentType {
  name: string;
  label: string;
  category: string;
  icon: string;
  description: string;
  behavior: string;
  defaults: { replicas?: number; [k: string]: unknown };
  params: Record<string, ParamSpec>;
  schema: Record<string, unknown>;
}

export interface ComponentList {
  components: ComponentType[];
  broken: Record<string, string>;
}

/** One problem of a 422 answer: path is a JSONPath into the request. */
export interface ValidationProblem {
  path: string;
  reason: string;
  line?: number;
}
