//! What the run leaves in the workspace: paths resolved against it, the report directory for
//! `publish --from`, and handing what was written back to the workspace's owner.

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::actions_env::ActionContext;
use crate::error::Error;
use crate::pipeline::ReportOutput;

pub(super) fn resolve(base: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_owned()
    } else {
        base.join(p)
    }
}

/// Writes `summary.md`, `report.json`, the event payload and the run context: what the second
/// stage (`publish --from`) needs.
pub(super) fn write_report_dir(
    ctx: &ActionContext,
    o: &ReportOutput,
    markdown: &str,
    dir: &Path,
) -> Result<(), Error> {
    let summary = |w: &mut dyn std::io::Write| w.write_all(markdown.as_bytes());
    let json = |w: &mut dyn std::io::Write| crate::render::write_json(&o.report, w);
    crate::inputs::write_all_or_nothing_with(
        dir,
        &[("summary.md", &summary), ("report.json", &json)],
    )?;
    if let Some(p) = &ctx.event_path {
        let ev = std::fs::read_to_string(p).map_err(|e| Error::io(p, e))?;
        let meta = json!({
            "event_name": ctx.event_name,
            "check_name": ctx.inputs.check_name,
            "comment": ctx.inputs.comment != crate::actions_env::CommentMode::Off,
        });
        crate::inputs::write_all_or_nothing(
            dir,
            &[
                ("event.json", ev.as_str()),
                ("context.json", &format!("{meta:#}\n")),
            ],
        )?;
    }
    Ok(())
}

/// Gives `paths` (recursively; those outside `workspace` are left alone) the workspace's owner
/// and group. Only root can, and only root needs to: a Docker action runs as root on a
/// workspace mounted from the runner's user.
pub(super) fn give_to_workspace_owner(workspace: &Path, paths: &[PathBuf]) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // SAFETY: geteuid(2) reads the process's effective uid; it touches no memory.
        if unsafe { libc::geteuid() } != 0 {
            return;
        }
        let Ok(ws) = std::fs::metadata(workspace) else {
            return;
        };
        let (uid, gid) = (ws.uid(), ws.gid());
        if uid == 0 {
            return;
        }
        let mut stack: Vec<PathBuf> = paths
            .iter()
            .filter(|p| p.starts_with(workspace))
            .cloned()
            .collect();
        while let Some(p) = stack.pop() {
            let Ok(meta) = std::fs::symlink_metadata(&p) else {
                continue;
            };
            if meta.uid() != uid || meta.gid() != gid {
                let _ = std::os::unix::fs::lchown(&p, Some(uid), Some(gid));
            }
            if meta.is_dir() {
                stack.extend(
                    std::fs::read_dir(&p)
                        .into_iter()
                        .flatten()
                        .flatten()
                        .map(|e| e.path()),
                );
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (workspace, paths);
}
