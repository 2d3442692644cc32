// The app shell: signs in again from the stored refresh token, then routes by the URL hash
// between sign-in, the projects home, the template gallery and the editor (H5's
// EditorScreen). Signed-out visitors are sent to #/login and come back where they were going.
import { useEffect } from "react";
import { EditorScreen } from "./editor/EditorScreen";
import { LoginScreen } from "./screens/LoginScreen";
import { ProjectsScreen } from "./screens/ProjectsScreen";
import { TemplatesScreen } from "./screens/TemplatesScreen";
import { navigate, parseRoute, routeHash, useHash, type Route } from "./screens/route";
import { useAuth } from "./store/auth";
import { Spinner } from "./ui/EmptyState";
import { Logo } from "./ui/Logo";
import { Toaster } from "./ui/toast";
import { takeSigningOut, UserMenu } from "./ui/UserMenu";

const TITLES = { login: "Sign in", register: "Create account", projects: "Projects",
                 templates: "Templates" } as const;

let returnTo: string | null = null; // where a signed-out visitor wanted to go

export function App() {
  const status = useAuth((s) => s.status);
  const restore = useAuth((s) => s.restore);
  const hash = useHash();
  const route = parseRoute(hash);
  const isAuthRoute = route.name === "login" || route.name === "register";

  useEffect(() => {
    void restore();
  }, [restore]);

  useEffect(() => {
    // The editor names its project itself (EditorScreen may set document.title).
    if (route.name !== "editor") document.title = `${TITLES[route.name]} · sdsim`;
  }, [route.name]);

  useEffect(() => {
    if (status === "signedOut" && !isAuthRoute) {
      // After an explicit sign-out the next sign-in starts at the projects.
      if (!takeSigningOut() && hash && hash !== "#/" && hash !== "#") returnTo = hash;
      navigate({ name: "login" }, { replace: true });
    } else if (status === "signedIn" && isAuthRoute) {
      const to = returnTo;
      returnTo = null;
      if (to && !/^#\/(login|register)/.test(to)) {
        window.history.replaceState(null, "", window.location.pathname + to);
        window.dispatchEvent(new HashChangeEvent("hashchange"));
      } else {
        navigate({ name: "projects" }, { replace: true });
      }
    } else if (status === "signedIn" && (!hash || hash === "#" || hash === "#/")) {
      navigate({ name: "projects" }, { replace: true });
    }
  }, [status, isAuthRoute, hash]);

  return (
    <>
      {status === "unknown" ? (
        <div className="boot"><Spinner label="Signing in" /></div>
      ) : status === "signedOut" ? (
        isAuthRoute ? <LoginScreen mode={route.name === "register" ? "register" : "login"} />
          : null
      ) : route.name === "editor" ? (
        <div className="editor-root">
          <EditorScreen key={route.projectId} projectId={route.projectId} />
        </div>
      ) : isAuthRoute ? null : (
        <Shell route={route} />
      )}
      <Toaster />
    </>
  );
}

function Shell({ route }: { route: Route }) {
  return (
    <div className="shell">
      <header className="topbar">
        <a className="brand" href={routeHash({ name: "projects" })}>
          <Logo size={20} />
          <span>sdsim</span>
        </a>
        <nav className="nav" aria-label="Main">
          <NavLink to={{ name: "projects" }} current={route} testId="nav-projects">Projects</NavLink>
          <NavLink to={{ name: "templates" }} current={route} testId="nav-templates">
            Templates
          </NavLink>
        </nav>
        <div className="topbar-spacer" />
        <UserMenu />
      </header>
      <main className="main">
        {route.name === "templates" ? <TemplatesScreen /> : <ProjectsScreen />}
      </main>
    </div>
  );
}

function NavLink({ to, current, testId, children }: {
  to: Route; current: Route; testId: string; children: React.ReactNode;
}) {
  const active = to.name === current.name;
  return (
    <a href={routeHash(to)} className={`nav-link ${active ? "nav-link-active" : ""}`}
       aria-current={active ? "page" : undefined} data-testid={testId}>
      {children}
    </a>
  );
}
