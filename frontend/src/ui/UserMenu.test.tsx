import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { useAuth } from "../store/auth";
import { UserMenu } from "./UserMenu";

beforeEach(() => {
  useAuth.setState({
    status: "signedIn",
    user: { id: "u", email: "ann@example.com", role: "user", subscriptionTier: "free",
            name: "Ann Lee", createdAt: 1,
            limits: { maxProjects: 5, projectsUsed: 2, maxConcurrentSimulations: 1,
                      maxSimulationDurationS: 600, maxComponentsPerProject: 50 } },
  });
});
afterEach(cleanup);

describe("UserMenu", () => {
  it("shows name, email and plan; arrows move between items; Escape closes", () => {
    render(<UserMenu />);
    expect(screen.getByTestId("user-name").textContent).toBe("Ann Lee");
    fireEvent.click(screen.getByTestId("user-menu"));
    expect(screen.getByTestId("user-email").textContent).toBe("ann@example.com");
    expect(screen.getByTestId("user-plan").textContent).toBe("Free plan · 2 of 5 projects");
    expect(document.activeElement).toBe(screen.getByTestId("profile-edit"));
    fireEvent.keyDown(document, { key: "ArrowDown" });
    expect(document.activeElement).toBe(screen.getByTestId("sign-out"));
    fireEvent.keyDown(document, { key: "ArrowDown" });
    expect(document.activeElement).toBe(screen.getByTestId("profile-edit"));
    fireEvent.keyDown(document, { key: "Escape" });
    expect(screen.queryByTestId("sign-out")).toBeNull();
    expect(document.activeElement).toBe(screen.getByTestId("user-menu"));
  });
});
