// Sign in / create an account. The server's own sentences are shown as they come ("wrong
// email or password", "too many login attempts ..."); a 422's problems go under their field.
import { useState } from "react";
import { ApiError } from "../api/client";
import { useAuth } from "../store/auth";
import { Logo } from "../ui/Logo";
import { sentence } from "../ui/text";
import { navigate } from "./route";

type FieldErrors = Partial<Record<"email" | "password" | "name", string>>;

function fieldErrors(e: ApiError): FieldErrors {
  const out: FieldErrors = {};
  for (const p of e.errors ?? []) {
    const f = p.path.replace(/^\$\./, "");
    const key = f === "firstName" || f === "lastName" ? "name" : f;
    if (key === "email" || key === "password" || key === "name") {
      out[key] = `${label(key)} ${p.reason}`;
    }
  }
  return out;
}

function label(k: "email" | "password" | "name") {
  return k === "email" ? "Email" : k === "password" ? "Password" : "Name";
}

export function LoginScreen({ mode }: { mode: "login" | "register" }) {
  const login = useAuth((s) => s.login);
  const register = useAuth((s) => s.register);
  const restoreError = useAuth((s) => s.restoreError);
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [fields, setFields] = useState<FieldErrors>({});
  const isRegister = mode === "register";

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    const local: FieldErrors = {};
    if (!email.trim()) local.email = "Enter your email";
    if (!password) local.password = "Enter a password";
    else if (isRegister && password.length < 8) local.password = "Use at least 8 characters";
    setFields(local);
    setError(null);
    if (Object.keys(local).length) return;
    setBusy(true);
    try {
      if (isRegister) await register({ email: email.trim(), password, name });
      else await login(email.trim(), password);
      // App sees the sign-in and goes on: to the page asked for before, else the projects.
    } catch (err) {
      setBusy(false);
      if (err instanceof ApiError) {
        const f = fieldErrors(err);
        setFields(f);
        setError(Object.keys(f).length ? null : err.message);
      } else {
        setError((err as Error).message);
      }
    }
  };

  const switchMode = () => {
    setError(null);
    setFields({});
    navigate({ name: isRegister ? "login" : "register" });
  };

  return (
    <div className="auth-page">
      <div className="auth-brand">
        <Logo />
        <span>sdsim</span>
      </div>
      <form className="auth-card" onSubmit={submit} noValidate data-testid="login-form">
        <h1 className="auth-title">{isRegister ? "Create your account" : "Sign in"}</h1>
        <p className="auth-sub">
          {isRegister
            ? "Design systems, then watch them run under load."
            : "Welcome back. Sign in to your designs."}
        </p>
        {!error && restoreError && (
          <div className="form-error form-error-box" role="alert" data-testid="restore-error">
            Your sign-in could not be restored: {restoreError}
          </div>
        )}
        {error && (
          <div className="form-error form-error-box" role="alert" data-testid="login-error">
            {sentence(error)}
          </div>
        )}
        {isRegister && (
          <label className="field">
            <span className="field-label">Name <span className="muted">(optional)</span></span>
            <input className="input" value={name} autoComplete="name" maxLength={100}
                   onChange={(e) => setName(e.target.value)} data-testid="login-name" />
            {fields.name && <span className="field-error">{fields.name}</span>}
          </label>
        )}
        <label className="field">
          <span className="field-label">Email</span>
          <input className="input" type="email" value={email} autoComplete="email" autoFocus
                 onChange={(e) => setEmail(e.target.value)} data-testid="login-email"
                 aria-invalid={!!fields.email} />
          {fields.email && <span className="field-error">{fields.email}</span>}
        </label>
        <label className="field">
          <span className="field-label">Password</span>
          <input className="input" type="password" value={password}
                 autoComplete={isRegister ? "new-password" : "current-password"}
                 onChange={(e) => setPassword(e.target.value)} data-testid="login-password"
                 aria-invalid={!!fields.password} />
          {fields.password && <span className="field-error">{fields.password}</span>}
          {isRegister && !fields.password && (
            <span className="field-hint">At least 8 characters.</span>
          )}
        </label>
        <button type="submit" className="btn btn-primary btn-block" disabled={busy}
                data-testid="login-submit">
          {busy ? "Please wait…" : isRegister ? "Create account" : "Sign in"}
        </button>
        <div className="auth-switch">
          {isRegister ? "Already have an account?" : "New to sdsim?"}{" "}
          <button type="button" className="link" onClick={switchMode}
                  data-testid="login-switch">
            {isRegister ? "Sign in" : "Create an account"}
          </button>
        </div>
      </form>
    </div>
  );
}
