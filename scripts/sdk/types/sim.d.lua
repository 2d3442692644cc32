---@meta
-- LuaLS annotations for component type files (docs/plugin-api.md). Point your editor's Lua
-- language server at this directory (e.g. .luarc.json: { "workspace.library":
-- ["scripts/sdk/types"] }) and annotate a type file's table with ---@type sim.ComponentType
-- to get completion and type checks for req, ctx and the declaration itself.

---A parameter spec: the browser builds the property form from it.
---@class sim.ParamSpec
---@field type "int"|"number"|"string"|"enum"|"bool"|"dist"|"object"
---@field default? any
---@field min? number
---@field max? number
---@field exclusive_min? boolean
---@field values? string[] enum values
---@field fields? table<string, sim.ParamSpec> object fields
---@field required? boolean
---@field unit? string
---@field help? string

---A distribution as the design document writes it (times in ms).
---@class sim.Dist
---@field dist "const"|"exp"|"erlang"|"hyperexp"|"lognormal"|"uniform"|"empirical"
---@field mean_ms? number
---@field scv? number
---@field k? integer
---@field values_ms? number[]

---The standard parameters the engine itself reads.
---@class sim.Std
std = {}
---A copy of a standard parameter spec (workers, queue, service_time, policy, fanout,
---error_rate, cost_per_hour, rate_limit, shed, autoscale, hit_ratio, read_ratio) with
---some entries replaced.
---@param name string
---@param overrides? table
---@return sim.ParamSpec
function std.param(name, overrides) end

---One request at the component. Reused for the next request once the behaviour returns.
---@class sim.Request
---@field key integer the consistent-hashing key
---@field attempt integer 1 for a call's first attempt, 2 for the first retry; 0 when not a call
---@field replica integer the replica serving it, from 0
---@field kind "root"|"call"|"copy"

---An outgoing edge of the component.
---@class sim.Edge
---@field to string the target component's id
---@field mode "call"|"forward"|"async"
---@field p number

---The component (one per component per run), shared by its requests and timers.
---@class sim.Ctx
---@field id string the component's id
---@field type string its type name
---@field params table its parameters, validated, defaults filled in
---@field state table the component's own state: fresh ({}) at the start of each run
---@field replicas integer replica slots (autoscaling maximum included)
---@field edges sim.Edge[] outgoing edges in design order
local Ctx = {}

---Holds the worker: nothing = one sample of the component's service_time; a number = that
---many ms; a distribution = one sample of it. Faults and the error rate apply.
---@param x? number|sim.Dist
function Ctx:work(x) end

---Waits ms holding the worker (no faults, no error draw).
---@param ms number
function Ctx:sleep(ms) end

---A blocking call along the edge to `to` (an id or an index into ctx.edges), with the edge's
---latency, timeout, retries, breaker, partitions and loss. Failures do not fail the caller.
---@param to string|integer
---@return boolean ok the callee answered
---@return number ms the time the call took, retries included
function Ctx:call(to) end

---Calls every listed edge at once (nil = every outgoing call edge) and waits for all.
---@param list? (string|integer)[]
---@return boolean ok all answered
---@return number ms
function Ctx:call_all(list) end

---Sends a detached copy along the edge to `to` (default: the first edge) and goes on.
---@param to? string|integer
function Ctx:async(to) end

---Ends the request with success (also what returning without a decision does).
function Ctx:answer() end

---Ends the request with an error at this component.
---@param reason? string
function Ctx:fail(reason) end

---Ends the request here (a completion) and sends it on along the edge to `to` (default:
---the first outgoing edge).
---@param to? string|integer
function Ctx:forward(to) end

---Simulated time in ms.
---@return number
function Ctx:now() end

---Like math.random, from the run's seeded stream (deterministic per seed).
---@param m? integer
---@param n? integer
---@return number
function Ctx:random(m, n) end

---True when replica i (from 0) is up and in rotation.
---@param i integer
---@return boolean
function Ctx:replica_up(i) end

---How many replicas are up and in rotation.
---@return integer
function Ctx:replicas_up() end

---Calls fn(ctx) once after ms (outside any request: no work, sleep or call inside).
---@param ms number
---@param fn fun(ctx: sim.Ctx)
---@return integer id
function Ctx:after(ms, fn) end

---Cancels a pending timer.
---@param id integer
function Ctx:cancel(id) end

---A component type file's table (components/NAME.lua or a plugin DIR/NAME.lua).
---@class sim.ComponentType
---@field name string must equal the file name
---@field label? string
---@field category? string
---@field icon? string
---@field description? string
---@field defaults? { replicas?: integer }
---@field params table<string, sim.ParamSpec>
---@field behavior string|fun(req: sim.Request, ctx: sim.Ctx) an engine behaviour name, or Lua
---@field init? fun(ctx: sim.Ctx) called once per component at the start of each run
