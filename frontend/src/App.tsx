// The app's screens: sign in, projects and templates, the editor. (Scaffold: the app shell
// replaces this.)
export function App() {
  return <div className="app">sdsim</div>;
}
