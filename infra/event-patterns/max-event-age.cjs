/**
 * maxEventAgeMinutes in seconds, for the rules' retry policies and drop's asynchronous invocations: EventBridge and
 * Lambda stop retrying an event when drop would no longer act on it (MAX_EVENT_AGE_MINUTES).
 * (CommonJS because osls resolves `${file()}` only from .js/.cjs files it can require.)
 */
module.exports = async ({ resolveVariable }) => Number(await resolveVariable('param:maxEventAgeMinutes')) * 60;
