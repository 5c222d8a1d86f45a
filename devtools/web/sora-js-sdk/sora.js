/**
* sora-js-sdk
* WebRTC SFU Sora JavaScript SDK
* @version: 2026.1.0
* @author: Shiguredo Inc.
* @license: Apache-2.0
**/
//#region src/helpers.ts
async function e(e, t) {
	if (t.audio && typeof t.audio != "boolean") for (let n of e.getAudioTracks()) await n.applyConstraints(t.audio);
	if (t.video && typeof t.video != "boolean") for (let n of e.getVideoTracks()) await n.applyConstraints(t.video);
}
//#endregion
//#region src/constants.ts
var t = "websocket", n = "datachannel", r = "sendrecv", i = "offer", a = "answer", o = "candidate", s = "pong", c = "stats", l = "re-answer", u = "disconnect", d = "update", f = class extends Error {
	constructor() {
		super("DISCONNECT-WAIT-TIMEOUT-ERROR"), this.name = "DisconnectWaitTimeoutError";
	}
}, p = class extends Error {
	constructor() {
		super("DISCONNECT-INTERNAL-ERROR"), this.name = "DisconnectInternalError";
	}
}, m = class extends Error {
	constructor() {
		super("DISCONNECT-DATA-CHANNEL-ERROR"), this.name = "DisconnectDataChannelError";
	}
};
//#endregion
//#region src/utils.ts
function h() {
	let e = window.navigator.userAgent.toLocaleLowerCase();
	return e.includes("edge") ? "edge" : e.includes("chrome") && !e.includes("edge") ? "chrome" : e.includes("safari") && !e.includes("chrome") ? "safari" : e.includes("opera") ? "opera" : e.includes("firefox") ? "firefox" : null;
}
function g() {
	let e = [
		"urn:ietf:params:rtp-hdrext:sdes:mid",
		"urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
		"urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"
	];
	if (!window.RTCRtpSender || !RTCRtpSender.getCapabilities) return !1;
	let t = RTCRtpSender.getCapabilities("video");
	if (!t) return !1;
	let n = new Set(t.headerExtensions.map((e) => e.uri));
	return e.every((e) => n.has(e));
}
function _(e) {
	if (typeof e != "object" || !e) throw Error("Failed to parse options dataChannels. Options dataChannels element must be type 'object'");
	let t = e, n = {};
	return typeof t.label == "string" && (n.label = t.label), typeof t.direction == "string" && (n.direction = t.direction), typeof t.ordered == "boolean" && (n.ordered = t.ordered), typeof t.compress == "boolean" && (n.compress = t.compress), typeof t.maxPacketLifeTime == "number" && (n.max_packet_life_time = t.maxPacketLifeTime), typeof t.maxRetransmits == "number" && (n.max_retransmits = t.maxRetransmits), typeof t.protocol == "string" && (n.protocol = t.protocol), Array.isArray(t.header) && (n.header = t.header), n;
}
function v(e) {
	let t = [];
	for (let n of e) t.push(_(n));
	return t;
}
function y() {
	return h() === "safari";
}
function b() {
	return h() === "firefox";
}
function x(e, t, n, r, i, a) {
	if (t !== "sendrecv" && t !== "sendonly" && t !== "recvonly") throw Error("Unknown role type");
	if (n == null) throw Error("channelId can not be null or undefined");
	let o = {
		audio: !0,
		channel_id: n,
		environment: window.navigator.userAgent,
		role: t,
		sdp: e,
		sora_client: "Sora JavaScript SDK 2026.1.0",
		type: "connect",
		video: !0
	};
	a && (o.redirect = !0), typeof i.simulcast == "boolean" && (o.simulcast = i.simulcast), i.simulcastRid !== void 0 && [
		"r0",
		"r1",
		"r2"
	].includes(i.simulcastRid) && (o.simulcast_rid = i.simulcastRid), i.simulcastRequestRid !== void 0 && [
		"none",
		"r0",
		"r1",
		"r2"
	].includes(i.simulcastRequestRid) && (o.simulcast_request_rid = i.simulcastRequestRid), typeof i.spotlight == "boolean" && (o.spotlight = i.spotlight), typeof i.spotlightNumber == "number" && (o.spotlight_number = i.spotlightNumber);
	let s = [
		"none",
		"r0",
		"r1",
		"r2"
	];
	i.spotlightFocusRid !== void 0 && s.includes(i.spotlightFocusRid) && (o.spotlight_focus_rid = i.spotlightFocusRid), i.spotlightUnfocusRid !== void 0 && s.includes(i.spotlightUnfocusRid) && (o.spotlight_unfocus_rid = i.spotlightUnfocusRid), r !== void 0 && (o.metadata = r), i.signalingNotifyMetadata !== void 0 && (o.signaling_notify_metadata = i.signalingNotifyMetadata), i.forwardingFilters !== void 0 && (o.forwarding_filters = i.forwardingFilters), i.forwardingFilter !== void 0 && (o.forwarding_filter = i.forwardingFilter), i.clientId !== void 0 && (o.client_id = i.clientId), i.bundleId !== void 0 && (o.bundle_id = i.bundleId), typeof i.dataChannelSignaling == "boolean" && (o.data_channel_signaling = i.dataChannelSignaling), typeof i.ignoreDisconnectWebSocket == "boolean" && (o.ignore_disconnect_websocket = i.ignoreDisconnectWebSocket);
	let c = ["audioCodecType", "audioBitRate"], l = [
		"audioOpusParamsChannels",
		"audioOpusParamsMaxplaybackrate",
		"audioOpusParamsStereo",
		"audioOpusParamsSpropStereo",
		"audioOpusParamsMinptime",
		"audioOpusParamsPtime",
		"audioOpusParamsUseinbandfec",
		"audioOpusParamsUsedtx"
	], u = [
		"videoCodecType",
		"videoBitRate",
		"videoVP9Params",
		"videoH264Params",
		"videoH265Params",
		"videoAV1Params"
	], d = { ...i };
	for (let e of Object.keys(d)) e === "audio" && typeof d[e] == "boolean" || e === "video" && typeof d[e] == "boolean" || c.includes(e) && d[e] !== null && d[e] !== void 0 || l.includes(e) && d[e] !== null && d[e] !== void 0 || u.includes(e) && d[e] !== null && d[e] !== void 0 || delete d[e];
	d.audio !== void 0 && (o.audio = d.audio);
	let f = Object.keys(d).some((e) => c.includes(e));
	o.audio && f && (o.audio = {}, typeof d.audioCodecType == "string" && (o.audio.codec_type = d.audioCodecType), typeof d.audioBitRate == "number" && (o.audio.bit_rate = d.audioBitRate));
	let p = Object.keys(d).some((e) => l.includes(e));
	o.audio && p && (typeof o.audio != "object" && (o.audio = {}), o.audio.opus_params = {}, typeof d.audioOpusParamsChannels == "number" && (o.audio.opus_params.channels = d.audioOpusParamsChannels), typeof d.audioOpusParamsMaxplaybackrate == "number" && (o.audio.opus_params.maxplaybackrate = d.audioOpusParamsMaxplaybackrate), typeof d.audioOpusParamsStereo == "boolean" && (o.audio.opus_params.stereo = d.audioOpusParamsStereo), typeof d.audioOpusParamsSpropStereo == "boolean" && (o.audio.opus_params.sprop_stereo = d.audioOpusParamsSpropStereo), typeof d.audioOpusParamsMinptime == "number" && (o.audio.opus_params.minptime = d.audioOpusParamsMinptime), typeof d.audioOpusParamsPtime == "number" && (o.audio.opus_params.ptime = d.audioOpusParamsPtime), typeof d.audioOpusParamsUseinbandfec == "boolean" && (o.audio.opus_params.useinbandfec = d.audioOpusParamsUseinbandfec), typeof d.audioOpusParamsUsedtx == "boolean" && (o.audio.opus_params.usedtx = d.audioOpusParamsUsedtx)), d.video !== void 0 && (o.video = d.video);
	let m = Object.keys(d).some((e) => u.includes(e));
	if (o.video && m && (o.video = {}, typeof d.videoCodecType == "string" && (o.video.codec_type = d.videoCodecType), typeof d.videoBitRate == "number" && (o.video.bit_rate = d.videoBitRate), d.videoVP9Params !== void 0 && (o.video.vp9_params = d.videoVP9Params), d.videoH264Params !== void 0 && (o.video.h264_params = d.videoH264Params), d.videoH265Params !== void 0 && (o.video.h265_params = d.videoH265Params), d.videoAV1Params !== void 0 && (o.video.av1_params = d.videoAV1Params)), o.simulcast && !g() && t !== "recvonly") throw Error("Simulcast can not be used with this browser");
	return Array.isArray(i.dataChannels) && i.dataChannels.length > 0 && (o.data_channels = v(i.dataChannels)), i.audioStreamingLanguageCode !== void 0 && (o.audio_streaming_language_code = i.audioStreamingLanguageCode), o;
}
var S = new Set([
	"metadata",
	"signaling_notify_metadata",
	"authn_metadata",
	"authz_metadata",
	"access_token",
	"secret"
]);
function C(e) {
	return w(e, /* @__PURE__ */ new WeakSet());
}
function w(e, t) {
	if (typeof e != "object" || !e) return e;
	if (t.has(e)) return "[Circular]";
	if (Array.isArray(e)) return t.add(e), e.map((e) => w(e, t));
	let n = Object.getPrototypeOf(e);
	if (n !== null && n !== Object.prototype) return e;
	t.add(e);
	let r = {};
	for (let [n, i] of Object.entries(e)) r[n] = S.has(n) ? "[REDACTED]" : w(i, t);
	return r;
}
function T(e, t, n) {
	let r = C(n), i = (e) => {
		if (e && typeof e == "object") {
			let t = null;
			try {
				t = Object.keys(structuredClone(e));
			} catch {}
			if (t && Array.isArray(t)) for (let n of t) console.group(n), i(e[n]), console.groupEnd();
			else console.info(e);
		} else console.info(e);
	}, a = "";
	window.performance && (a = `[${(window.performance.now() / 1e3).toFixed(3)}]`), e && (a = `${a}[${e}]`), console.info !== void 0 && console.group !== void 0 ? (console.group(`${a} ${t}`), i(r), console.groupEnd()) : console.log("%s %s\n", a, t, r);
}
var E = class extends Error {
	code;
	reason;
	constructor(e, t, n) {
		super(e), this.name = "ConnectError", t !== void 0 && (this.code = t), n !== void 0 && (this.reason = n);
	}
};
function D(e, t, n) {
	let r = new Event(e);
	try {
		r.data = structuredClone(t);
	} catch {
		r.data = t;
	}
	return r.transportType = n, r;
}
function O(e) {
	return {
		binaryType: e.binaryType,
		bufferedAmount: e.bufferedAmount,
		bufferedAmountLowThreshold: e.bufferedAmountLowThreshold,
		id: e.id,
		label: e.label,
		maxPacketLifeTime: e.maxPacketLifeTime,
		maxRetransmits: e.maxRetransmits,
		negotiated: e.negotiated,
		ordered: e.ordered,
		protocol: e.protocol,
		readyState: e.readyState,
		reliable: e.reliable
	};
}
function k(e, t, n, r, i) {
	let a = new Event(e);
	try {
		a.data = structuredClone(t);
	} catch {
		a.data = t;
	}
	return a.logType = n, r !== void 0 && (a.dataChannelId = r), i !== void 0 && (a.dataChannelLabel = i), a;
}
function A(e, t) {
	let n = new Event("message");
	return n.label = e, n.data = t, n;
}
function j(e) {
	let t = new Event("datachannel");
	return t.datachannel = e, t;
}
async function M(e, t) {
	if (t) {
		let t = await P(new Uint8Array(e));
		return new TextDecoder().decode(t);
	}
	return e;
}
var N = async (e) => {
	let t = new Blob([new Uint8Array(e)]).stream().pipeThrough(new CompressionStream("deflate"));
	return new Response(t).arrayBuffer();
}, P = async (e) => {
	let t = new Blob([new Uint8Array(e)]).stream().pipeThrough(new DecompressionStream("deflate"));
	return new Response(t).arrayBuffer();
};
function F(e) {
	let t = /^(v=.+?)(m=audio.+)/msu.exec(e);
	if (t === null) return e;
	let n = t[1], r = t[2];
	if (n === void 0 || r === void 0) return e;
	let i = [], a = [];
	for (let e of r.split(/\n/u)) e[0] === "m" ? (a = [e], i.push(a)) : a.push(e);
	return `${n}${i.map((e) => e.join("\n")).map((e) => !I(e) || !L(e) || !R(e) || !z(e) || !B(e) ? e : V(e)).join("\n")}`;
}
function I(e) {
	return e.startsWith("m=audio");
}
function L(e) {
	return e.includes("a=setup:active");
}
function R(e) {
	return e.includes("a=recvonly");
}
function z(e) {
	return /a=rtpmap:\d+\sopus/u.test(e);
}
function B(e) {
	return /a=fmtp:\d+/u.test(e);
}
function V(e) {
	return e.replace(/(?<!stereo=1;.*)minptime=\d+(?!.*stereo=1)/u, (e) => `${e};stereo=1`);
}
//#endregion
//#region src/base.ts
var H = class {
	role;
	simulcast;
	spotlight;
	channelId;
	metadata;
	signalingUrlCandidates;
	options;
	constraints;
	debug;
	bundleId;
	clientId;
	connectionId;
	sessionId;
	remoteConnectionIds;
	stream;
	authMetadata;
	pc;
	encodings;
	rpcMethods;
	connectedSignalingUrl;
	contactSignalingUrl;
	ws;
	connectionTimeoutTimerId;
	monitorSignalingWebSocketEventTimerId;
	monitorIceConnectionStateChangeTimerId;
	soraDataChannels;
	connectionTimeout;
	signalingCandidateTimeout;
	disconnectWaitTimeout;
	disconnectingPromise = null;
	mids;
	signalingSwitched;
	signalingOfferMessageDataChannels;
	selfConnectionCreatedMessage;
	connectedCallbackCalled;
	callbacks;
	rpcRequestPromises = /* @__PURE__ */ new Map();
	rpcRequestIdCounter = 0;
	constructor(e, t, n, r, i, a) {
		this.role = t, this.channelId = n, this.metadata = r, this.signalingUrlCandidates = e, this.options = { ...i }, this.options.skipIceCandidateEvent ??= !1, this.connectionTimeout = 6e4, typeof this.options.timeout == "number" && (console.warn("@deprecated timeout option will be removed in a future version. Use connectionTimeout."), this.connectionTimeout = this.options.timeout), typeof this.options.connectionTimeout == "number" && (this.connectionTimeout = this.options.connectionTimeout), this.disconnectWaitTimeout = 3e3, typeof this.options.disconnectWaitTimeout == "number" && (this.disconnectWaitTimeout = this.options.disconnectWaitTimeout), this.signalingCandidateTimeout = 3e3, typeof this.options.signalingCandidateTimeout == "number" && (this.signalingCandidateTimeout = this.options.signalingCandidateTimeout), this.constraints = null, this.debug = a, this.simulcast = !1, this.spotlight = !1, this.sessionId = null, this.clientId = null, this.bundleId = null, this.connectionId = null, this.remoteConnectionIds = [], this.stream = null, this.ws = null, this.pc = null, this.encodings = [], this.rpcMethods = [], this.callbacks = {
			connected: () => {},
			datachannel: () => {},
			disconnect: () => {},
			log: () => {},
			message: () => {},
			notify: () => {},
			push: () => {},
			removetrack: () => {},
			signaling: () => {},
			switched: () => {},
			timeline: () => {},
			timeout: () => {},
			track: () => {}
		}, this.authMetadata = null, this.connectionTimeoutTimerId = 0, this.monitorSignalingWebSocketEventTimerId = 0, this.monitorIceConnectionStateChangeTimerId = 0, this.soraDataChannels = {}, this.mids = {
			audio: "",
			video: ""
		}, this.signalingSwitched = !1, this.signalingOfferMessageDataChannels = {}, this.selfConnectionCreatedMessage = null, this.connectedCallbackCalled = !1, this.connectedSignalingUrl = "", this.contactSignalingUrl = "";
	}
	on(e, t) {
		e in this.callbacks && (this.callbacks[e] = t);
	}
	async stopAudioTrack(e) {
		return console.warn("@deprecated stopAudioTrack will be removed in a future version. Use removeAudioTrack instead."), this.removeAudioTrack(e);
	}
	async removeAudioTrack(e) {
		for (let t of e.getAudioTracks()) t.enabled = !1;
		return new Promise((t, n) => {
			setTimeout(() => {
				if (this.pc === null) {
					n(new E("Disconnected during removeAudioTrack", void 0, "REMOVE_TRACK_DURING_DISCONNECT"));
					return;
				}
				let r = e.getAudioTracks().map(async (t) => {
					if (t.stop(), e.removeTrack(t), this.pc !== null) {
						let e = this.pc.getSenders().find((e) => e.track && e.track.id === t.id);
						if (e) return e.replaceTrack(null);
					}
				});
				Promise.all(r).then(() => {
					t();
				}).catch(n);
			}, 100);
		});
	}
	async stopVideoTrack(e) {
		return console.warn("@deprecated stopVideoTrack will be removed in a future version. Use removeVideoTrack instead."), this.removeVideoTrack(e);
	}
	async removeVideoTrack(e) {
		for (let t of e.getVideoTracks()) t.enabled = !1;
		return new Promise((t, n) => {
			setTimeout(() => {
				if (this.pc === null) {
					n(new E("Disconnected during removeVideoTrack", void 0, "REMOVE_TRACK_DURING_DISCONNECT"));
					return;
				}
				let r = e.getVideoTracks().map(async (t) => {
					if (t.stop(), e.removeTrack(t), this.pc !== null) {
						let e = this.pc.getSenders().find((e) => e.track && e.track.id === t.id);
						if (e) return e.replaceTrack(null);
					}
				});
				Promise.all(r).then(() => {
					t();
				}).catch(n);
			}, 100);
		});
	}
	async replaceAudioTrack(e, t) {
		await this.removeAudioTrack(e);
		let n = this.getAudioTransceiver();
		if (n === null) throw Error("Unable to set an audio track. Audio track sender is undefined");
		e.addTrack(t), await n.sender.replaceTrack(t);
	}
	async replaceVideoTrack(e, t) {
		await this.removeVideoTrack(e);
		let n = this.getVideoTransceiver();
		if (n === null) throw Error("Unable to set video track. Video track sender is undefined");
		e.addTrack(t), await n.sender.replaceTrack(t);
	}
	signalingTerminate() {
		for (let e of Object.keys(this.soraDataChannels)) {
			let t = this.soraDataChannels[e];
			t && t.close(), delete this.soraDataChannels[e];
		}
		this.ws &&= (this.ws.close(), null), this.pc && (this.pc.onicecandidate = null, this.pc.close()), this.initializeConnection();
	}
	abendPeerConnectionState(e) {
		this.clearMonitorIceConnectionStateChange(), this.pc && (this.pc.ondatachannel = null, this.pc.oniceconnectionstatechange = null, this.pc.onicegatheringstatechange = null, this.pc.onconnectionstatechange = null, this.pc.onicecandidate = null), this.ws && (this.ws.onclose = (e) => {
			this.writeWebSocketTimelineLog("onclose", {
				code: e.code,
				reason: e.reason
			});
		}, this.ws.onmessage = null, this.ws.onerror = null);
		for (let e of Object.keys(this.soraDataChannels)) {
			let t = this.soraDataChannels[e];
			t && (t.onclose = (e) => {
				let t = e.currentTarget;
				this.writeDataChannelTimelineLog("onclose", t), this.trace("CLOSE DATA CHANNEL", t.label);
			}, t.onmessage = null, t.onerror = null);
		}
		for (let e of Object.keys(this.soraDataChannels)) {
			let t = this.soraDataChannels[e];
			t && t.close(), delete this.soraDataChannels[e];
		}
		this.ws &&= (this.ws.close(), null), this.pc && this.pc.close(), this.initializeConnection();
		let t = this.soraCloseEvent("abend", e);
		this.writeSoraTimelineLog("disconnect-abend", t), this.callbacks.disconnect(t);
	}
	shutdown(e) {
		this.clearMonitorIceConnectionStateChange(), this.pc && (this.pc.ondatachannel = null, this.pc.oniceconnectionstatechange = null, this.pc.onicegatheringstatechange = null, this.pc.onconnectionstatechange = null, this.pc.onicecandidate = null);
		for (let e of Object.keys(this.soraDataChannels)) {
			let t = this.soraDataChannels[e];
			t && (t.onclose = (e) => {
				let t = e.currentTarget;
				this.writeDataChannelTimelineLog("onclose", t), this.trace("CLOSE DATA CHANNEL", t.label);
			}, t.onmessage = null, t.onerror = null, t.close()), delete this.soraDataChannels[e];
		}
		this.maybeClosePeerConnection(), this.initializeConnection();
		let t = this.soraCloseEvent("normal", "SHUTDOWN", e);
		this.writeSoraTimelineLog("disconnect-normal", t), this.callbacks.disconnect(t);
	}
	async abend(e, t) {
		this.clearMonitorIceConnectionStateChange(), this.pc && (this.pc.ondatachannel = null, this.pc.oniceconnectionstatechange = null, this.pc.onicegatheringstatechange = null, this.pc.onconnectionstatechange = null, this.pc.onicecandidate = null), this.ws && (this.ws.onclose = (e) => {
			this.writeWebSocketTimelineLog("onclose", {
				code: e.code,
				reason: e.reason
			});
		}, this.ws.onmessage = null, this.ws.onerror = null);
		for (let e of Object.keys(this.soraDataChannels)) {
			let t = this.soraDataChannels[e];
			t && (t.onclose = (e) => {
				let t = e.currentTarget;
				this.writeDataChannelTimelineLog("onclose", t), this.trace("CLOSE DATA CHANNEL", t.label);
			}, t.onmessage = null, t.onerror = null);
		}
		if (this.soraDataChannels.signaling) {
			let t = {
				reason: e,
				type: u
			};
			if (this.signalingOfferMessageDataChannels.signaling?.compress === !0) {
				let e = await N(new TextEncoder().encode(JSON.stringify(t)));
				if (this.soraDataChannels.signaling.readyState === "open") try {
					this.soraDataChannels.signaling.send(e), this.writeDataChannelSignalingLog("send-disconnect", this.soraDataChannels.signaling, t);
				} catch (e) {
					let t = e.message;
					this.writeDataChannelSignalingLog("failed-to-send-disconnect", this.soraDataChannels.signaling, t);
				}
			} else if (this.soraDataChannels.signaling.readyState === "open") try {
				this.soraDataChannels.signaling.send(JSON.stringify(t)), this.writeDataChannelSignalingLog("send-disconnect", this.soraDataChannels.signaling, t);
			} catch (e) {
				let t = e.message;
				this.writeDataChannelSignalingLog("failed-to-send-disconnect", this.soraDataChannels.signaling, t);
			}
		}
		for (let e of Object.keys(this.soraDataChannels)) {
			let t = this.soraDataChannels[e];
			t && (t.onerror = null, t.close()), delete this.soraDataChannels[e];
		}
		if (await this.disconnectWebSocket(e), this.maybeClosePeerConnection(), this.initializeConnection(), e === "WEBSOCKET-ONCLOSE" && t && (t.code === 1e3 || t.code === 1005)) {
			let e = this.soraCloseEvent("normal", "DISCONNECT", t);
			this.writeSoraTimelineLog("disconnect-normal", e), this.callbacks.disconnect(e);
			return;
		}
		let n = this.soraCloseEvent("abend", e, t);
		this.writeSoraTimelineLog("disconnect-abend", n), this.callbacks.disconnect(n);
	}
	initializeConnection() {
		this.simulcast = !1, this.spotlight = !1, this.sessionId = null, this.clientId = null, this.bundleId = null, this.connectionId = null, this.remoteConnectionIds = [], this.stream = null, this.ws = null, this.pc = null, this.encodings = [], this.rpcMethods = [], this.authMetadata = null, this.soraDataChannels = {}, this.mids = {
			audio: "",
			video: ""
		}, this.signalingSwitched = !1, this.signalingOfferMessageDataChannels = {}, this.contactSignalingUrl = "", this.connectedSignalingUrl = "", this.selfConnectionCreatedMessage = null, this.connectedCallbackCalled = !1, this.clearConnectionTimeout();
	}
	async disconnectWebSocket(e) {
		let t = 0;
		return this.signalingSwitched ? (this.ws &&= (this.ws.close(), null), null) : new Promise((n, r) => {
			if (!this.ws) {
				n(null);
				return;
			}
			if (this.ws.onclose = (e) => {
				this.ws &&= (this.ws.close(), null), clearTimeout(t), this.writeWebSocketTimelineLog("onclose", {
					code: e.code,
					reason: e.reason
				}), n({
					code: e.code,
					reason: e.reason
				});
			}, this.ws.readyState === 1) {
				let r = {
					reason: e,
					type: u
				};
				this.ws.send(JSON.stringify(r)), this.writeWebSocketSignalingLog("send-disconnect", r), t = setTimeout(() => {
					this.ws &&= (this.ws.close(), null), n({
						code: 1006,
						reason: ""
					});
				}, this.disconnectWaitTimeout);
			} else this.ws.close(), this.ws = null, n({
				code: 1e3,
				reason: "NO-ERROR"
			});
		});
	}
	forceCloseDataChannels() {
		for (let e of Object.keys(this.soraDataChannels)) {
			let t = this.soraDataChannels[e];
			t && (t.onerror = null, t.onclose = null, t.onmessage = null, t.close());
		}
	}
	async disconnectDataChannel() {
		if (!this.soraDataChannels.signaling) return this.forceCloseDataChannels(), {
			code: 4999,
			reason: new p().message
		};
		let e = new Promise((e, t) => {
			setTimeout(() => {
				t(new f());
			}, this.disconnectWaitTimeout);
		}), t = [];
		for (let e of Object.keys(this.soraDataChannels)) {
			let n = this.soraDataChannels[e];
			n && t.push(new Promise((e, t) => {
				n.onclose = (t) => {
					let n = t.currentTarget;
					this.writeDataChannelTimelineLog("onclose", n), this.trace("CLOSE DATA CHANNEL", n.label), e();
				}, n.onerror = () => {
					t(new m());
				};
			}));
		}
		let n = Promise.all(t), r = {
			reason: "NO-ERROR",
			type: u
		};
		if (this.signalingOfferMessageDataChannels.signaling?.compress === !0) {
			let e = await N(new TextEncoder().encode(JSON.stringify(r)));
			if (this.soraDataChannels.signaling?.readyState && this.soraDataChannels.signaling.readyState === "open") try {
				this.soraDataChannels.signaling.send(e), this.writeDataChannelSignalingLog("send-disconnect", this.soraDataChannels.signaling, r);
			} catch (e) {
				let t = e.message;
				this.writeDataChannelSignalingLog("failed-to-send-disconnect", this.soraDataChannels.signaling, t);
			}
		} else if (this.soraDataChannels.signaling.readyState === "open") try {
			this.soraDataChannels.signaling.send(JSON.stringify(r)), this.writeDataChannelSignalingLog("send-disconnect", this.soraDataChannels.signaling, r);
		} catch (e) {
			let t = e.message;
			this.writeDataChannelSignalingLog("failed-to-send-disconnect", this.soraDataChannels.signaling, t);
		}
		try {
			return await Promise.race([e, n]), {
				code: 1e3,
				reason: "TYPE-DISCONNECT"
			};
		} catch (e) {
			return this.forceCloseDataChannels(), {
				code: 4999,
				reason: e.message
			};
		}
	}
	maybeClosePeerConnection() {
		this.pc && this.pc.connectionState !== "closed" && this.pc.close();
	}
	async disconnect() {
		return this.disconnectingPromise ||= (async () => {
			try {
				this.clearMonitorIceConnectionStateChange(), this.pc && (this.pc.ondatachannel = null, this.pc.oniceconnectionstatechange = null, this.pc.onicegatheringstatechange = null, this.pc.onconnectionstatechange = null, this.pc.onicecandidate = null), this.ws && (this.ws.onclose = (e) => {
					this.writeWebSocketTimelineLog("onclose", {
						code: e.code,
						reason: e.reason
					});
				}, this.ws.onmessage = null, this.ws.onerror = null);
				let e = null;
				if (this.signalingSwitched) {
					let t = await this.disconnectDataChannel();
					e = t.code === 4999 ? this.soraCloseEvent("abend", t.reason, {
						code: t.code,
						reason: t.reason
					}) : this.soraCloseEvent("normal", "DISCONNECT", t), await this.disconnectWebSocket("NO-ERROR"), this.maybeClosePeerConnection();
				} else {
					let t = await this.disconnectWebSocket("NO-ERROR");
					this.maybeClosePeerConnection(), this.forceCloseDataChannels(), t !== null && (e = this.soraCloseEvent("normal", "DISCONNECT", t));
				}
				this.initializeConnection(), e && (e.type === "abend" ? this.writeSoraTimelineLog("disconnect-abend", e) : e.type === "normal" && this.writeSoraTimelineLog("disconnect-normal", e), this.callbacks.disconnect(e));
			} finally {
				this.disconnectingPromise = null;
			}
		})(), this.disconnectingPromise;
	}
	async getSignalingWebSocket(e) {
		if (Array.isArray(e) && e.length === 0) throw new E("Signaling failed. The signalingUrlCandidates array is empty.");
		if (typeof e == "string" || e.length === 1) {
			let t = typeof e == "string" ? e : e[0];
			if (t === void 0) throw new E("Signaling failed. signalingUrl is undefined.");
			return new Promise((e, n) => {
				let r = new WebSocket(t);
				r.onclose = (e) => {
					let t = new E(`Signaling failed. CloseEventCode:${e.code} CloseEventReason:'${e.reason}'`, e.code, e.reason);
					this.writeWebSocketTimelineLog("onclose", t), n(t);
				}, r.onopen = (t) => {
					e(r);
				};
			});
		}
		if (Array.isArray(e)) {
			let t = !1, n = async (e) => new Promise((n, r) => {
				let i = new WebSocket(e), a = setTimeout(() => {
					this.writeWebSocketSignalingLog("signaling-url-candidate", {
						type: "timeout",
						url: i.url
					}), i && !t && (i.onclose = null, i.onerror = null, i.onopen = null, i.close(), r(/* @__PURE__ */ Error("Signaling URL candidate timed out")));
				}, this.signalingCandidateTimeout);
				i.onclose = (e) => {
					this.writeWebSocketSignalingLog("signaling-url-candidate", {
						type: "close",
						url: i.url,
						message: "WebSocket closed",
						code: e.code,
						reason: e.reason
					}), i && i.close(), clearInterval(a), r(/* @__PURE__ */ Error("Signaling URL candidate WebSocket closed"));
				}, i.onerror = (e) => {
					this.writeWebSocketSignalingLog("signaling-url-candidate", {
						type: "error",
						url: i.url,
						message: "Failed to connect WebSocket"
					}), i && (i.onclose = null, i.close()), clearInterval(a), r(/* @__PURE__ */ Error("Signaling URL candidate WebSocket error"));
				}, i.onopen = (e) => {
					i && (clearInterval(a), t ? (this.writeWebSocketSignalingLog("signaling-url-candidate", {
						type: "open",
						url: i.url,
						selected: !1
					}), i.onerror = null, i.onclose = null, i.onopen = null, i.close(), r(/* @__PURE__ */ Error("Signaling URL candidate already resolved"))) : (this.writeWebSocketSignalingLog("signaling-url-candidate", {
						type: "open",
						url: i.url,
						selected: !0
					}), i.onerror = null, i.onclose = null, i.onopen = null, t = !0, n(i)));
				};
			});
			try {
				return await Promise.any(e.map(async (e) => n(e)));
			} catch {
				throw new E("Signaling failed. All signaling URL candidates failed to connect");
			}
		}
		throw new E("Signaling failed. Invalid format signaling URL candidates");
	}
	async signaling(e, n = !1) {
		let r = await this.createOffer();
		return this.trace("CREATE OFFER", r), new Promise((i, a) => {
			this.writeWebSocketSignalingLog("new-websocket", e.url), e.binaryType = "arraybuffer";
			let o = !1, s = (e) => {
				o || (o = !0, this.signalingTerminate(), a(e));
			};
			e.onclose = (e) => {
				let t = new E(`Signaling failed. CloseEventCode:${e.code} CloseEventReason:'${e.reason}'`, e.code, e.reason);
				this.writeWebSocketTimelineLog("onclose", t), this.signalingTerminate(), a(t);
			}, e.onmessage = async (n) => {
				try {
					if (typeof n.data != "string") throw TypeError("Received invalid signaling data");
					let r = JSON.parse(n.data);
					if (r.type === "offer") this.writeWebSocketSignalingLog("onmessage-offer", r), this.signalingOnMessageTypeOffer(r), this.connectedSignalingUrl = e.url, o = !0, i(r);
					else if (r.type === "update") this.writeWebSocketSignalingLog("onmessage-update", r), await this.signalingOnMessageTypeUpdate(r);
					else if (r.type === "re-offer") this.writeWebSocketSignalingLog("onmessage-re-offer", r), await this.signalingOnMessageTypeReOffer(r);
					else if (r.type === "ping") await this.signalingOnMessageTypePing(r);
					else if (r.type === "push") this.callbacks.push(r, t);
					else if (r.type === "notify") r.event_type === "connection.created" ? this.writeWebSocketTimelineLog("notify-connection.created", r) : r.event_type === "connection.destroyed" && this.writeWebSocketTimelineLog("notify-connection.destroyed", r), this.signalingOnMessageTypeNotify(r, t);
					else if (r.type === "switched") this.writeWebSocketSignalingLog("onmessage-switched", r), this.signalingOnMessageTypeSwitched(r);
					else if (r.type === "redirect") {
						this.writeWebSocketSignalingLog("onmessage-redirect", r);
						let e = await this.signalingOnMessageTypeRedirect(r);
						o = !0, i(e);
					}
				} catch (e) {
					if (o) {
						this.writeWebSocketSignalingLog("onmessage-exception-post-offer", e.message);
						return;
					}
					let t = new E(`Signaling failed. ws.onmessage threw: ${e.message}`, void 0, "SIGNALING_ONMESSAGE_EXCEPTION");
					s(t), this.writeWebSocketSignalingLog("onmessage-exception-pre-offer", t.message);
				}
			};
			let c;
			try {
				c = x(r.sdp ?? "", this.role, this.channelId, this.metadata, this.options, n);
			} catch (e) {
				a(e instanceof Error ? e : Error(String(e)));
				return;
			}
			this.trace("SIGNALING CONNECT MESSAGE", c), e && (e.send(JSON.stringify(c)), this.writeWebSocketSignalingLog(`send-${c.type}`, c), this.ws = e, n || (this.contactSignalingUrl = e.url, this.writeWebSocketSignalingLog("contact-signaling-url", this.contactSignalingUrl)));
		});
	}
	async connectPeerConnection(e) {
		let t = { ...e.config };
		if (window.RTCPeerConnection.generateCertificate !== void 0) try {
			t = {
				certificates: [await window.RTCPeerConnection.generateCertificate({
					name: "ECDSA",
					namedCurve: "P-256"
				})],
				...t
			};
		} catch (e) {
			let t = String(e);
			this.trace("GENERATE CERTIFICATE FAILED", t), this.writePeerConnectionTimelineLog("generate-certificate-failed", { reason: t });
		}
		this.trace("PEER CONNECTION CONFIG", t), this.writePeerConnectionTimelineLog("new-peerconnection", t), this.pc = new window.RTCPeerConnection(t, this.constraints), this.pc.oniceconnectionstatechange = (e) => {
			this.pc && (this.writePeerConnectionTimelineLog("oniceconnectionstatechange", {
				connectionState: this.pc.connectionState,
				iceConnectionState: this.pc.iceConnectionState,
				iceGatheringState: this.pc.iceGatheringState
			}), this.trace("ONICECONNECTIONSTATECHANGE ICECONNECTIONSTATE", this.pc.iceConnectionState));
		}, this.pc.onicegatheringstatechange = (e) => {
			this.pc && this.writePeerConnectionTimelineLog("onicegatheringstatechange", {
				connectionState: this.pc.connectionState,
				iceConnectionState: this.pc.iceConnectionState,
				iceGatheringState: this.pc.iceGatheringState
			});
		}, this.pc.onconnectionstatechange = (e) => {
			this.pc && this.writePeerConnectionTimelineLog("onconnectionstatechange", {
				connectionState: this.pc.connectionState,
				iceConnectionState: this.pc.iceConnectionState,
				iceGatheringState: this.pc.iceGatheringState
			});
		}, this.pc.ondatachannel = (e) => {
			this.onDataChannel(e);
		};
	}
	async setRemoteDescription(e) {
		if (!this.pc) return;
		let t = this.processOfferSdp(e.sdp), n = new RTCSessionDescription({
			sdp: t,
			type: i
		});
		await this.pc.setRemoteDescription(n), this.writePeerConnectionTimelineLog("set-remote-description", n);
	}
	async createAnswer(e) {
		if (!this.pc) return;
		for (let e of Object.values(this.mids)) {
			let t = this.pc.getTransceivers().find((t) => t.mid === e);
			t?.direction === "recvonly" && (t.direction = r);
		}
		if (this.simulcast && (this.role === "sendrecv" || this.role === "sendonly")) {
			let t = this.pc.getTransceivers().find((e) => e.mid === null || e.sender.track === null || e.currentDirection !== null && e.currentDirection !== "sendonly" ? !1 : !!(this.mids.video !== "" && this.mids.video === e.mid || e.mid.includes("video")));
			if (t) {
				await this.setSenderParameters(t, this.encodings), await this.setRemoteDescription(e), this.trace("TRANSCEIVER SENDER GET_PARAMETERS", t.sender.getParameters()), await this.setSenderParameters(t, this.encodings);
				let n = await this.pc.createAnswer();
				await this.pc.setLocalDescription(n), this.trace("TRANSCEIVER SENDER GET_PARAMETERS", t.sender.getParameters());
				return;
			}
		}
		let t = await this.pc.createAnswer();
		this.writePeerConnectionTimelineLog("create-answer", t), this.options.forceStereoOutput && t.sdp && (t.sdp = F(t.sdp)), await this.pc.setLocalDescription(t), this.writePeerConnectionTimelineLog("set-local-description", t);
	}
	processOfferSdp(e) {
		let t = e;
		return b() && (t = t.replaceAll(/^m=(audio|video) 0 /gmu, (e, t) => `m=${t} 9 `)), t;
	}
	sendAnswer() {
		if (this.pc && this.ws && this.pc.localDescription) {
			this.trace("ANSWER SDP", this.pc.localDescription.sdp);
			let { sdp: e } = this.pc.localDescription, t = {
				sdp: e,
				type: a
			};
			if (this.ws.readyState !== 1) throw this.writeWebSocketSignalingLog("failed-to-send-answer", t), this.signalingTerminate(), new E("Signaling failed. Failed to send answer because WebSocket is not open", void 0, "WS_SEND_INVALID_STATE");
			try {
				this.ws.send(JSON.stringify(t)), this.writeWebSocketSignalingLog("send-answer", t);
			} catch {
				throw this.writeWebSocketSignalingLog("failed-to-send-answer", t), this.signalingTerminate(), new E("Signaling failed. Failed to send answer because ws.send threw", void 0, "WS_SEND_FAILED");
			}
		}
	}
	async onIceCandidate() {
		return new Promise((e, t) => {
			this.pc && (this.pc.oniceconnectionstatechange = (t) => {
				this.pc && (this.writePeerConnectionTimelineLog("oniceconnectionstatechange", {
					connectionState: this.pc.connectionState,
					iceConnectionState: this.pc.iceConnectionState,
					iceGatheringState: this.pc.iceGatheringState
				}), this.trace("ONICECONNECTIONSTATECHANGE ICECONNECTIONSTATE", this.pc.iceConnectionState), this.pc.iceConnectionState === "connected" && e());
			}, this.pc.onicecandidate = async (t) => {
				if (this.writePeerConnectionTimelineLog("onicecandidate", t.candidate), this.pc && this.trace("ONICECANDIDATE ICEGATHERINGSTATE", this.pc.iceGatheringState), t.candidate === null) e();
				else {
					let e = t.candidate.toJSON(), n = Object.assign(e, { type: o });
					this.trace("ONICECANDIDATE CANDIDATE MESSAGE", n), await this.sendSignalingMessage(n);
				}
			});
		});
	}
	async waitChangeConnectionStateConnected() {
		return new Promise((e, t) => {
			if (this.pc && this.pc.connectionState === void 0) {
				e();
				return;
			}
			let n = setInterval(() => {
				if (this.pc) this.pc?.connectionState === "connected" && (clearInterval(n), e());
				else {
					let e = /* @__PURE__ */ Error("PeerConnection connectionState did not change to 'connected'");
					clearInterval(n), t(e);
				}
			}, 10);
		});
	}
	async monitorSignalingWebSocketEvent() {
		return new Promise((e, t) => {
			this.monitorSignalingWebSocketEventTimerId = setInterval(() => {
				this.ws && (this.clearMonitorSignalingWebSocketEvent(), this.ws.onclose = (e) => {
					let n = new E(`Signaling failed. CloseEventCode:${e.code} CloseEventReason:'${e.reason}'`, e.code, e.reason);
					this.writeWebSocketTimelineLog("onclose", n), this.signalingTerminate(), t(n);
				}, this.ws.onerror = (e) => {
					let n = new E("Signaling failed. WebSocket onerror was called");
					this.writeWebSocketSignalingLog("onerror", n), this.signalingTerminate(), t(n);
				});
			}, 100);
		});
	}
	monitorWebSocketEvent() {
		this.ws && (this.ws.onclose = async (e) => {
			this.writeWebSocketTimelineLog("onclose", {
				code: e.code,
				reason: e.reason
			}), e.code === 1e3 ? this.shutdown({
				code: e.code,
				reason: e.reason
			}) : await this.abend("WEBSOCKET-ONCLOSE", {
				code: e.code,
				reason: e.reason
			});
		}, this.ws.onerror = async (e) => {
			this.writeWebSocketSignalingLog("onerror"), await this.abend("WEBSOCKET-ONERROR");
		});
	}
	monitorPeerConnectionState() {
		this.pc && (this.pc.oniceconnectionstatechange = (e) => {
			this.pc && (this.writePeerConnectionTimelineLog("oniceconnectionstatechange", {
				connectionState: this.pc.connectionState,
				iceConnectionState: this.pc.iceConnectionState,
				iceGatheringState: this.pc.iceGatheringState
			}), this.trace("ONICECONNECTIONSTATECHANGE ICECONNECTIONSTATE", this.pc.iceConnectionState), clearTimeout(this.monitorIceConnectionStateChangeTimerId), this.pc.iceConnectionState === "failed" ? this.abendPeerConnectionState("ICE-CONNECTION-STATE-FAILED") : this.pc.iceConnectionState === "disconnected" && (this.monitorIceConnectionStateChangeTimerId = setTimeout(() => {
				this.pc?.iceConnectionState === "disconnected" && this.abendPeerConnectionState("ICE-CONNECTION-STATE-DISCONNECTED-TIMEOUT");
			}, 1e4)));
		}, this.pc.onconnectionstatechange = (e) => {
			this.pc && (this.writePeerConnectionTimelineLog("onconnectionstatechange", {
				connectionState: this.pc.connectionState,
				iceConnectionState: this.pc.iceConnectionState,
				iceGatheringState: this.pc.iceGatheringState
			}), this.pc.connectionState === "connected" && this.triggerConnectedCallbackIfReady(), this.pc.connectionState === "failed" && this.abendPeerConnectionState("CONNECTION-STATE-FAILED"));
		}, this.pc.connectionState === "connected" && this.triggerConnectedCallbackIfReady());
	}
	async setConnectionTimeout() {
		return new Promise((e, t) => {
			this.connectionTimeout > 0 && (this.connectionTimeoutTimerId = setTimeout(() => {
				if (!this.pc || this.pc && this.pc.connectionState !== void 0 && this.pc.connectionState !== "connected") {
					let e = /* @__PURE__ */ Error("Signaling connection timeout");
					this.callbacks.timeout(), this.trace("DISCONNECT", "Signaling connection timeout"), this.writePeerConnectionTimelineLog("signaling-connection-timeout", { connectionTimeout: this.connectionTimeout }), this.signalingTerminate(), t(e);
				}
			}, this.connectionTimeout));
		});
	}
	clearConnectionTimeout() {
		clearTimeout(this.connectionTimeoutTimerId);
	}
	clearMonitorSignalingWebSocketEvent() {
		clearInterval(this.monitorSignalingWebSocketEventTimerId);
	}
	clearMonitorIceConnectionStateChange() {
		clearTimeout(this.monitorIceConnectionStateChangeTimerId);
	}
	trace(e, t) {
		let n = C(t);
		this.callbacks.log(e, n), this.debug && T(this.clientId, e, n);
	}
	writeWebSocketSignalingLog(e, n) {
		this.callbacks.signaling(D(e, n, t)), this.writeWebSocketTimelineLog(e, n);
	}
	writeDataChannelSignalingLog(e, t, r) {
		this.callbacks.signaling(D(e, r, n)), this.writeDataChannelTimelineLog(e, t, r);
	}
	writeWebSocketTimelineLog(e, n) {
		let r = k(e, n, t);
		this.callbacks.timeline(r);
	}
	writeDataChannelTimelineLog(e, t, n) {
		let r = k(e, n, "datachannel", t.id, t.label);
		this.callbacks.timeline(r);
	}
	writePeerConnectionTimelineLog(e, t) {
		let n = k(e, t, "peerconnection");
		this.callbacks.timeline(n);
	}
	writeSoraTimelineLog(e, t) {
		let n = k(e, t, "sora");
		this.callbacks.timeline(n);
	}
	async createOffer() {
		let e = new window.RTCPeerConnection({ iceServers: [] });
		if (y()) {
			e.addTransceiver("video", { direction: "recvonly" }), e.addTransceiver("audio", { direction: "recvonly" });
			let t = await e.createOffer();
			return e.close(), this.writePeerConnectionTimelineLog("create-offer", t), t;
		}
		let t = await e.createOffer({
			offerToReceiveAudio: !0,
			offerToReceiveVideo: !0
		});
		return e.close(), this.writePeerConnectionTimelineLog("create-offer", t), t;
	}
	signalingOnMessageTypeOffer(e) {
		if (this.simulcast = e.simulcast, this.spotlight = e.spotlight, e.session_id !== void 0 && (this.sessionId = e.session_id), this.clientId = e.client_id, this.bundleId = e.bundle_id, this.connectionId = e.connection_id, e.metadata !== void 0 && (this.authMetadata = e.metadata), Array.isArray(e.encodings) && (this.encodings = e.encodings), e.mid?.audio !== void 0 && (this.mids.audio = e.mid.audio), e.mid?.video !== void 0 && (this.mids.video = e.mid.video), e.data_channels) for (let t of e.data_channels) this.signalingOfferMessageDataChannels[t.label] = t;
		Array.isArray(e.rpc_methods) && (this.rpcMethods = e.rpc_methods), this.trace("SIGNALING OFFER MESSAGE", e), this.trace("OFFER SDP", e.sdp);
	}
	async sendUpdateAnswer() {
		this.pc && this.ws && this.pc.localDescription && (this.trace("UPDATE ANSWER SDP", this.pc.localDescription.sdp), await this.sendSignalingMessage({
			sdp: this.pc.localDescription.sdp,
			type: d
		}));
	}
	async sendReAnswer() {
		this.pc?.localDescription && (this.trace("RE ANSWER SDP", this.pc.localDescription.sdp), await this.sendSignalingMessage({
			sdp: this.pc.localDescription.sdp,
			type: l
		}));
	}
	async signalingOnMessageTypeUpdate(e) {
		this.trace("SIGNALING UPDATE MESSGE", e), this.trace("UPDATE SDP", e.sdp), await this.setRemoteDescription(e), await this.createAnswer(e), await this.sendUpdateAnswer();
	}
	async signalingOnMessageTypeReOffer(e) {
		this.trace("SIGNALING RE OFFER MESSGE", e), this.trace("RE OFFER SDP", e.sdp), await this.setRemoteDescription(e), await this.createAnswer(e), await this.sendReAnswer();
	}
	signalingOnMessageTypeClose(e) {
		this.trace("SIGNALING DISCONNECT MESSAGE", e), this.shutdown({
			code: e.code,
			reason: e.reason
		});
	}
	async signalingOnMessageTypePing(e) {
		let t = { type: s };
		e.stats && (t.stats = await this.getStats()), this.ws && this.ws.send(JSON.stringify(t));
	}
	triggerConnectedCallbackIfReady() {
		!this.connectedCallbackCalled && this.pc?.connectionState === "connected" && this.selfConnectionCreatedMessage !== null && (this.connectedCallbackCalled = !0, this.callbacks.connected(this.selfConnectionCreatedMessage));
	}
	signalingOnMessageTypeNotify(e, t) {
		e.event_type === "connection.created" && "connection_id" in e && e.connection_id === this.connectionId && (this.selfConnectionCreatedMessage = e, this.triggerConnectedCallbackIfReady()), this.callbacks.notify(e, t);
	}
	signalingOnMessageTypeSwitched(e) {
		if (this.signalingSwitched = !0, this.ws) {
			e.ignore_disconnect_websocket && (this.ws &&= (this.ws.onclose = null, this.ws.onmessage = null, this.ws.onerror = null, this.ws.close(), null), this.writeWebSocketSignalingLog("close"));
			for (let e of this.datachannels) this.callbacks.datachannel(j(e));
			this.callbacks.switched(e);
		}
	}
	async signalingOnMessageTypeRedirect(e) {
		this.ws &&= (this.ws.onclose = null, this.ws.onmessage = null, this.ws.onerror = null, this.ws.close(), null);
		let t = await this.getSignalingWebSocket(e.location);
		return await this.signaling(t, !0);
	}
	async setSenderParameters(e, t) {
		let n = e.sender.getParameters();
		n.encodings = t, await e.sender.setParameters(n), this.trace("TRANSCEIVER SENDER SET_PARAMETERS", n), this.writePeerConnectionTimelineLog("transceiver-sender-set-parameters", n);
	}
	async getStats() {
		let e = [];
		if (!this.pc) return e;
		let t = await this.pc.getStats();
		for (let [n, r] of t.entries()) e.push(r);
		return e;
	}
	onDataChannel(e) {
		let t = e.channel;
		t.bufferedAmountLowThreshold = 65536, t.binaryType = "arraybuffer";
		let n = this.soraDataChannels[t.label];
		n && n !== t && (n.onerror = null, n.onclose = null, n.onmessage = null, this.writeDataChannelTimelineLog("close-stale-data-channel", n), (n.readyState === "open" || n.readyState === "connecting") && n.close()), this.soraDataChannels[t.label] = t, this.writeDataChannelTimelineLog("ondatachannel", t, O(t)), e.channel.onbufferedamountlow = (e) => {
			let t = e.currentTarget;
			this.writeDataChannelTimelineLog("onbufferedamountlow", t);
		}, e.channel.onopen = (e) => {
			let t = e.currentTarget;
			this.trace("OPEN DATA CHANNEL", t.label), t.label === "signaling" && this.ws ? this.writeDataChannelSignalingLog("onopen", t) : this.writeDataChannelTimelineLog("onopen", t);
		}, e.channel.onclose = async (e) => {
			let t = e.currentTarget;
			this.writeDataChannelTimelineLog("onclose", t), this.trace("CLOSE DATA CHANNEL", t.label), await this.disconnect();
		}, e.channel.onerror = async (e) => {
			let t = e.currentTarget;
			this.writeDataChannelTimelineLog("onerror", t), this.trace("ERROR DATA CHANNEL", t.label), await this.abend("DATA-CHANNEL-ONERROR", { params: { label: t.label } });
		}, e.channel.label === "signaling" ? e.channel.onmessage = async (e) => {
			let t = e.currentTarget, { label: n } = t, r = this.signalingOfferMessageDataChannels[n];
			if (!r) {
				console.warn(`Received onmessage event for '${n}' DataChannel. But '${n}' DataChannel settings doesn't exist`);
				return;
			}
			let i = await M(e.data, r.compress), a = JSON.parse(i);
			this.writeDataChannelSignalingLog(`onmessage-${a.type}`, t, a), a.type === "re-offer" ? await this.signalingOnMessageTypeReOffer(a) : a.type === "close" && this.signalingOnMessageTypeClose(a);
		} : e.channel.label === "notify" ? e.channel.onmessage = async (e) => {
			let t = e.currentTarget, { label: n } = t, r = this.signalingOfferMessageDataChannels[n];
			if (!r) {
				console.warn(`Received onmessage event for '${n}' DataChannel. But '${n}' DataChannel settings doesn't exist`);
				return;
			}
			let i = await M(e.data, r.compress), a = JSON.parse(i);
			a.event_type === "connection.created" ? this.writeDataChannelTimelineLog("notify-connection.created", t, a) : a.event_type === "connection.destroyed" && this.writeDataChannelTimelineLog("notify-connection.destroyed", t, a), this.signalingOnMessageTypeNotify(a, "datachannel");
		} : e.channel.label === "push" ? e.channel.onmessage = async (e) => {
			let { label: t } = e.currentTarget, n = this.signalingOfferMessageDataChannels[t];
			if (!n) {
				console.warn(`Received onmessage event for '${t}' DataChannel. But '${t}' DataChannel settings doesn't exist`);
				return;
			}
			let r = await M(e.data, n.compress), i = JSON.parse(r);
			this.callbacks.push(i, "datachannel");
		} : e.channel.label === "stats" ? e.channel.onmessage = async (e) => {
			let { label: t } = e.currentTarget, n = this.signalingOfferMessageDataChannels[t];
			if (!n) {
				console.warn(`Received onmessage event for '${t}' DataChannel. But '${t}' DataChannel settings doesn't exist`);
				return;
			}
			let r = await M(e.data, n.compress);
			if (JSON.parse(r).type === "req-stats") {
				let e = await this.getStats();
				await this.sendStatsMessage(e);
			}
		} : /^#.*/u.test(e.channel.label) ? e.channel.onmessage = async (e) => {
			if (e.currentTarget === null) return;
			let { label: t } = e.currentTarget, n = this.signalingOfferMessageDataChannels[t];
			if (!n) {
				console.warn(`Received onmessage event for '${t}' DataChannel. But '${t}' DataChannel settings doesn't exist`);
				return;
			}
			let r = e.target, i;
			typeof e.data == "string" ? i = new Uint8Array(new TextEncoder().encode(e.data)).buffer : e.data instanceof ArrayBuffer ? i = e.data : console.warn("Received onmessage event data is not of type String or ArrayBuffer."), i !== void 0 && (n.compress && (i = await P(new Uint8Array(i))), this.callbacks.message(A(r.label, i)));
		} : e.channel.label === "rpc" && (e.channel.onmessage = async (e) => {
			let { label: t } = e.currentTarget, n = this.signalingOfferMessageDataChannels[t];
			if (!n) {
				console.warn(`Received onmessage event for '${t}' DataChannel. But '${t}' DataChannel settings doesn't exist`);
				return;
			}
			let r = await M(e.data, n.compress), i = JSON.parse(r);
			this.handleRPCResponse(i);
		});
	}
	async sendSignalingMessage(e) {
		if (this.soraDataChannels.signaling) if (this.signalingOfferMessageDataChannels.signaling?.compress === !0) {
			let t = await N(new TextEncoder().encode(JSON.stringify(e)));
			this.soraDataChannels.signaling.send(t), this.writeDataChannelSignalingLog(`send-${e.type}`, this.soraDataChannels.signaling, e);
		} else this.soraDataChannels.signaling.readyState === "open" && (this.soraDataChannels.signaling.send(JSON.stringify(e)), this.writeDataChannelSignalingLog(`send-${e.type}`, this.soraDataChannels.signaling, e));
		else this.ws?.readyState === 1 && (this.ws.send(JSON.stringify(e)), this.writeWebSocketSignalingLog(`send-${e.type}`, e));
	}
	async sendStatsMessage(e) {
		if (this.soraDataChannels.stats) {
			let t = {
				reports: e,
				type: c
			};
			if (this.signalingOfferMessageDataChannels.stats?.compress === !0) {
				let e = await N(new TextEncoder().encode(JSON.stringify(t)));
				this.soraDataChannels.stats.send(e);
			} else this.soraDataChannels.stats.readyState === "open" && this.soraDataChannels.stats.send(JSON.stringify(t));
		}
	}
	getAudioTransceiver() {
		return this.pc && this.mids.audio ? this.pc.getTransceivers().find((e) => e.mid === this.mids.audio) ?? null : null;
	}
	getVideoTransceiver() {
		return this.pc && this.mids.video ? this.pc.getTransceivers().find((e) => e.mid === this.mids.video) ?? null : null;
	}
	soraCloseEvent(e, t, n) {
		return new class extends Event {
			title;
			code;
			reason;
			params;
			constructor(e, t, n) {
				super(e), n && (n.code && (this.code = n.code), n.reason && (this.reason = n.reason), n.params && (this.params = n.params)), this.title = t;
			}
		}(e, t, n);
	}
	async sendMessage(e, t) {
		let n = this.soraDataChannels[e];
		if (this.pc !== null) {
			if (n === void 0) throw Error("Could not find DataChannel");
			if (n.readyState !== "open") throw Error("Messaging DataChannel is not open");
			if (this.signalingOfferMessageDataChannels[e]?.compress === !0) {
				let e = await N(t);
				n.send(e);
			} else n.send(new Uint8Array(t));
		}
	}
	get audio() {
		return this.getAudioTransceiver() !== null;
	}
	get video() {
		return this.getVideoTransceiver() !== null;
	}
	get signalingUrl() {
		return this.signalingUrlCandidates;
	}
	get datachannels() {
		if (!this.signalingSwitched) return [];
		let e = Object.keys(this.signalingOfferMessageDataChannels).filter((e) => /^#.*/u.exec(e)), t = [];
		for (let n of e) {
			let e = this.soraDataChannels[n];
			if (!e) continue;
			let r = this.signalingOfferMessageDataChannels[n];
			if (!r) continue;
			let i = {
				compress: r.compress,
				direction: r.direction,
				label: e.label,
				ordered: e.ordered,
				protocol: e.protocol
			};
			r.header !== void 0 && (i.header = r.header), typeof e.maxPacketLifeTime == "number" && (i.maxPacketLifeTime = e.maxPacketLifeTime), typeof e.maxRetransmits == "number" && (i.maxRetransmits = e.maxRetransmits), t.push(i);
		}
		return t;
	}
	async rpc(e, t, n) {
		let r = this.soraDataChannels.rpc;
		if (r?.readyState !== "open") throw Error("RPC DataChannel is not available or not open");
		let i = n?.notification === !0, a = i ? void 0 : ++this.rpcRequestIdCounter, o = {
			jsonrpc: "2.0",
			method: e
		};
		return a !== void 0 && (o.id = a), t !== void 0 && (o.params = t), new Promise((t, s) => {
			if (i) {
				let e = JSON.stringify(o);
				if (this.signalingOfferMessageDataChannels.rpc?.compress) N(new TextEncoder().encode(e)).then((e) => {
					r.send(e), t(void 0);
				}).catch((e) => {
					s(e instanceof Error ? e : Error(String(e)));
				});
				else try {
					r.send(e), t(void 0);
				} catch (e) {
					s(e instanceof Error ? e : Error(String(e)));
				}
				return;
			}
			let c;
			if (n?.timeout && (c = setTimeout(() => {
				a !== void 0 && this.rpcRequestPromises.delete(a), s(/* @__PURE__ */ Error(`RPC request timeout: ${e}`));
			}, n.timeout)), a === void 0) {
				s(/* @__PURE__ */ Error("RPC request id is undefined"));
				return;
			}
			this.rpcRequestPromises.set(a, {
				reject: (e) => {
					c && clearTimeout(c), s(e instanceof Error ? e : Error(String(e)));
				},
				resolve: (e) => {
					c && clearTimeout(c), t(e);
				}
			});
			let l = JSON.stringify(o);
			if (this.signalingOfferMessageDataChannels.rpc?.compress) N(new TextEncoder().encode(l)).then((e) => {
				r.send(e);
			}).catch((e) => {
				!i && a !== void 0 && (this.rpcRequestPromises.delete(a), c && clearTimeout(c)), s(e instanceof Error ? e : Error(String(e)));
			});
			else try {
				r.send(l);
			} catch (e) {
				!i && a !== void 0 && (this.rpcRequestPromises.delete(a), c && clearTimeout(c)), s(e instanceof Error ? e : Error(String(e)));
			}
		});
	}
	handleRPCResponse(e) {
		if (e.id === void 0) {
			console.warn("Received RPC response without id:", e);
			return;
		}
		let t = this.rpcRequestPromises.get(e.id);
		if (!t) {
			console.warn("No pending request found for RPC response id:", e.id);
			return;
		}
		this.rpcRequestPromises.delete(e.id), "error" in e ? t.reject(e.error) : t.resolve(e.result);
	}
}, U = class extends H {
	async connect() {
		await Promise.race([
			this.multiStream().finally(() => {
				this.clearConnectionTimeout(), this.clearMonitorSignalingWebSocketEvent();
			}),
			this.setConnectionTimeout(),
			this.monitorSignalingWebSocketEvent()
		]), this.monitorWebSocketEvent(), this.monitorPeerConnectionState();
	}
	async multiStream() {
		await this.disconnect();
		let e = await this.getSignalingWebSocket(this.signalingUrlCandidates), t = await this.signaling(e);
		await this.connectPeerConnection(t), await this.setRemoteDescription(t), await this.createAnswer(t), this.sendAnswer(), this.options.skipIceCandidateEvent || await this.onIceCandidate(), await this.waitChangeConnectionStateConnected();
	}
}, W = class extends H {
	async connect(e) {
		return await Promise.race([
			this.multiStream(e).finally(() => {
				this.clearConnectionTimeout(), this.clearMonitorSignalingWebSocketEvent();
			}),
			this.setConnectionTimeout(),
			this.monitorSignalingWebSocketEvent()
		]), this.monitorWebSocketEvent(), this.monitorPeerConnectionState(), e;
	}
	async multiStream(e) {
		await this.disconnect();
		let t = await this.getSignalingWebSocket(this.signalingUrlCandidates), n = await this.signaling(t);
		await this.connectPeerConnection(n), this.pc && (this.pc.ontrack = (e) => {
			let t = e.streams[0];
			if (!t) return;
			let n = {
				enabled: e.track.enabled,
				id: e.track.id,
				kind: e.track.kind,
				label: e.track.label,
				muted: e.track.muted,
				readyState: e.track.readyState,
				"stream.id": t.id
			};
			this.writePeerConnectionTimelineLog("ontrack", n), t.id !== "default" && t.id !== this.connectionId && (this.callbacks.track(e), t.onremovetrack = (e) => {
				if (this.callbacks.removetrack(e), e.target) {
					let t = e.target.id, n = this.remoteConnectionIds.indexOf(t);
					n !== -1 && this.remoteConnectionIds.splice(n, 1);
				}
			}, !this.remoteConnectionIds.includes(t.id) && this.remoteConnectionIds.push(t.id));
		}), await this.setRemoteDescription(n);
		for (let t of e.getTracks()) this.pc && this.pc.addTrack(t, e);
		return this.stream = e, await this.createAnswer(n), this.sendAnswer(), this.options.skipIceCandidateEvent || await this.onIceCandidate(), await this.waitChangeConnectionStateConnected(), e;
	}
}, G = class extends H {
	async connect() {
		await Promise.race([
			this.multiStream().finally(() => {
				this.clearConnectionTimeout(), this.clearMonitorSignalingWebSocketEvent();
			}),
			this.setConnectionTimeout(),
			this.monitorSignalingWebSocketEvent()
		]), this.monitorWebSocketEvent(), this.monitorPeerConnectionState();
	}
	async multiStream() {
		await this.disconnect();
		let e = await this.getSignalingWebSocket(this.signalingUrlCandidates), t = await this.signaling(e);
		await this.connectPeerConnection(t), this.pc && (this.pc.ontrack = (e) => {
			let t = e.streams[0];
			if (!t || t.id === "default" || t.id === this.connectionId) return;
			let n = {
				enabled: e.track.enabled,
				id: e.track.id,
				kind: e.track.kind,
				label: e.track.label,
				muted: e.track.muted,
				readyState: e.track.readyState,
				"stream.id": t.id
			};
			this.writePeerConnectionTimelineLog("ontrack", n), this.callbacks.track(e), t.onremovetrack = (e) => {
				if (this.callbacks.removetrack(e), e.target) {
					let t = e.target.id, n = this.remoteConnectionIds.indexOf(t);
					n !== -1 && this.remoteConnectionIds.splice(n, 1);
				}
			}, !this.remoteConnectionIds.includes(t.id) && this.remoteConnectionIds.push(t.id);
		}), await this.setRemoteDescription(t), await this.createAnswer(t), this.sendAnswer(), this.options.skipIceCandidateEvent || await this.onIceCandidate(), await this.waitChangeConnectionStateConnected();
	}
}, K = class {
	signalingUrlCandidates;
	debug;
	constructor(e, t = !1) {
		this.signalingUrlCandidates = e, this.debug = t;
	}
	sendrecv(e, t = null, n = {
		audio: !0,
		video: !0
	}) {
		return new W(this.signalingUrlCandidates, "sendrecv", e, t, n, this.debug);
	}
	sendonly(e, t = null, n = {
		audio: !0,
		video: !0
	}) {
		return new W(this.signalingUrlCandidates, "sendonly", e, t, n, this.debug);
	}
	recvonly(e, t = null, n = {
		audio: !0,
		video: !0
	}) {
		return new G(this.signalingUrlCandidates, "recvonly", e, t, n, this.debug);
	}
	messaging(e, t = null, n = {
		audio: !1,
		video: !1
	}) {
		let r = {
			...n,
			audio: !1,
			video: !1,
			dataChannelSignaling: !0
		};
		return new U(this.signalingUrlCandidates, "sendonly", e, t, r, this.debug);
	}
	get signalingUrl() {
		return this.signalingUrlCandidates;
	}
}, q = {
	connection: (e, t = !1) => new K(e, t),
	version: () => "2026.1.0",
	helpers: { applyMediaStreamConstraints: e }
};
//#endregion
export { q as default };
