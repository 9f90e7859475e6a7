//! The rmcp `ServerHandler`: `initialize` info, `tools/list` and
//! `tools/call` from the one tool table (`tools`). Most `tools/call`
//! requests are answered before the SDK by `direct`; this handler answers
//! the rest, through the same table.

use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, Implementation, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};

use super::tools;
use crate::app::App;
use crate::auth::Principal;

const INSTRUCTIONS: &str = "Asgard is your organisation's governed control plane. Start with `whoami`. \
Work only inside a registered project (register_project with a personal access token, or use the project your key is locked to). \
Call `seed_plan` with your languages and task, then `seed_get` each file and write it to its path. \
Never hard-code secrets. Tool errors carry {code, message, hint}: follow the hint.";

#[derive(Clone)]
pub struct AsgardMcp {
    app: Arc<App>,
}

impl AsgardMcp {
    pub fn new(app: Arc<App>) -> Self {
        AsgardMcp { app }
    }
}

impl ServerHandler for AsgardMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("asgard", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult::with_all_items(tools::all()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        tools::find(name).map(|e| e.tool().clone())
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let principal = context
            .extensions
            .get::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<Principal>());
        let Some(p) = principal else {
            return Err(McpError::internal_error(
                "request reached the tool without an authenticated principal",
                None,
            ));
        };
        let args = request.arguments.unwrap_or_default();
        Ok(CallToolResponse::Complete(
            tools::call(&self.app, p, &request.name, args).await,
        ))
    }
}
