// Placeholder so the app shell compiles; helper H5 replaces this file with the editor.
export function EditorScreen({ projectId }: { projectId: string }) {
  return (
    <div className="editor-placeholder" data-testid="editor">
      Editor for project <code>{projectId}</code>
    </div>
  );
}
