// phone.js: a phone in the browser, for the demo's "approve on your
// phone". It does what an app built on Twilio's Verify SDKs does, on the
// same device endpoints (/device/v2/...), signing as they sign:
//   - a P-256 key made with WebCrypto; Binding.PublicKey is its SPKI DER
//     export in standard base64;
//   - the factor's verification (AuthPayload) is an ECDSA-SHA256
//     signature over the factor's SID in DER (WebCrypto signs in the raw
//     r||s form, converted here);
//   - every later call carries an ES256 JWT as HTTP Basic auth (user
//     "token"): header cty "twilio-pba;v=1", kid the credential SID;
//     claims sub (the account), nbf now, exp now + 10 minutes; raw r||s
//     signature, base64url; on a 401 the clock is corrected by the
//     answer's Date and the call tried once more;
//   - an answer is an ES256 JWT over the fields the challenge's
//     Twilio-Verify-Signature-Fields header names, with their values as
//     fetched, plus "status": "approved" or "denied".
// The phone's state (its key as a JWK, its factor) is kept in this
// browser's localStorage: a demo, not a place for a real key.
"use strict";
(function () {
	const $ = (id) => document.getElementById(id);
	const store = "verifykit-phone";
	const enc = new TextEncoder();
	const ecdsa = { name: "ECDSA", hash: "SHA-256" };
	let skew = 0; // seconds to add to this clock to get the server's
	let state = null; // {base, identity, sid, kid, account, jwk}
	let key = null;

	function b64(bytes) {
		let s = "";
		for (const b of new Uint8Array(bytes)) {
			s += String.fromCharCode(b);
		}
		return btoa(s);
	}
	const b64url = (bytes) => b64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
	const jsonB64url = (v) => b64url(enc.encode(JSON.stringify(v)));

	// derInt encodes one unsigned big-endian integer as an ASN.1 INTEGER.
	function derInt(b) {
		let i = 0;
		while (i < b.length - 1 && b[i] === 0) {
			i++;
		}
		b = b.slice(i);
		const pad = b[0] & 0x80 ? [0] : [];
		return [0x02, b.length + pad.length, ...pad, ...b];
	}
	// rawToDER turns WebCrypto's r||s into an ASN.1 SEQUENCE of r and s.
	function rawToDER(raw) {
		const body = [...derInt(raw.slice(0, 32)), ...derInt(raw.slice(32))];
		return new Uint8Array([0x30, body.length, ...body]);
	}
	async function sign(text) {
		return new Uint8Array(await crypto.subtle.sign(ecdsa, key, enc.encode(text)));
	}
	async function jwt(header, claims) {
		const input = jsonB64url(header) + "." + jsonB64url(claims);
		return input + "." + b64url(await sign(input));
	}
	function requestJWT() {
		const now = Math.floor(Date.now() / 1000) + skew;
		return jwt({ cty: "twilio-pba;v=1", kid: state.kid, typ: "JWT", alg: "ES256" }, { sub: state.account, exp: now + 600, nbf: now });
	}

	async function call(method, path, secret, form) {
		const init = { method: method, headers: { Accept: "application/json", Authorization: "Basic " + btoa("token:" + secret) } };
		if (form) {
			init.headers["Content-Type"] = "application/x-www-form-urlencoded";
			init.body = new URLSearchParams(form).toString();
		}
		return fetch(state.base + path, init);
	}
	// authed calls with a request JWT, correcting the clock once on a 401.
	async function authed(method, path, form) {
		for (let attempt = 0; ; attempt++) {
			const r = await call(method, path, await requestJWT(), form);
			const date = r.headers.get("Date");
			if (r.status === 401 && attempt === 0 && date) {
				skew = Math.round((Date.parse(date) - Date.now()) / 1000);
				continue;
			}
			return r;
		}
	}

	function save() {
		localStorage.setItem(store, JSON.stringify(state));
	}
	async function load() {
		const s = localStorage.getItem(store);
		if (!s) {
			return false;
		}
		state = JSON.parse(s);
		key = await crypto.subtle.importKey("jwk", state.jwk, { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
		return true;
	}

	async function enrol(service, identity, token) {
		$("phone-status").textContent = "Setting up…";
		const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
		const spki = await crypto.subtle.exportKey("spki", pair.publicKey);
		key = pair.privateKey;
		state = {
			base: "/device/v2/Services/" + encodeURIComponent(service) + "/Entities/" + encodeURIComponent(identity),
			identity: identity, jwk: await crypto.subtle.exportKey("jwk", pair.privateKey),
		};
		const r = await call("POST", "/Factors", token, {
			FriendlyName: "Phone in the browser", FactorType: "push", "Binding.PublicKey": b64(spki), "Binding.Alg": "ES256",
			"Config.AppId": "com.verifykit.phone", "Config.NotificationPlatform": "none", "Config.SdkVersion": "verifykit-phone-js-1",
			Metadata: JSON.stringify({ os: "browser" }),
		});
		if (r.status !== 201) {
			throw new Error("the server refused the new factor (" + r.status + "): the link may be used or expired");
		}
		const f = await r.json();
		state.sid = f.sid;
		state.kid = f.config.credential_sid;
		state.account = f.account_sid;
		const sig = rawToDER(await sign(f.sid));
		const v = await authed("POST", "/Factors/" + f.sid, { AuthPayload: b64(sig) });
		const vf = await v.json();
		if (v.status !== 200 || vf.status !== "verified") {
			throw new Error("the server did not verify the factor (" + v.status + ")");
		}
		save();
	}

	async function answer(sid, approve) {
		const r = await authed("GET", "/Challenges/" + encodeURIComponent(sid));
		const fields = (r.headers.get("Twilio-Verify-Signature-Fields") || "").split(",").filter((f) => f);
		const ch = await r.json();
		if (r.status !== 200 || ch.status !== "pending" || ch.factor_sid !== state.sid || fields.length === 0) {
			$("phone-result").textContent = "This request can no longer be answered.";
			return;
		}
		const claims = {};
		for (const f of fields) {
			claims[f] = ch[f];
		}
		claims.status = approve ? "approved" : "denied";
		const payload = await jwt({ typ: "JWT", alg: "ES256" }, claims);
		const a = await authed("POST", "/Challenges/" + encodeURIComponent(sid), { AuthPayload: payload });
		const res = await a.json();
		$("phone-result").textContent = a.status === 200 ? "Request " + res.status + "." : "The server refused the answer (" + a.status + ").";
		poll();
	}

	let shown = "";
	async function poll() {
		try {
			const r = await authed("GET", "/Challenges?FactorSid=" + encodeURIComponent(state.sid) + "&Status=pending");
			if (r.status === 404 || r.status === 401) {
				$("phone-status").textContent = "This phone is no longer enrolled.";
				localStorage.removeItem(store);
				return;
			}
			const list = (await r.json()).challenges || [];
			const ids = list.map((c) => c.sid).join(",");
			if (ids !== shown) {
				shown = ids;
				const ul = $("phone-requests");
				ul.textContent = "";
				for (const c of list) {
					const li = document.createElement("li");
					li.className = "request";
					const p = document.createElement("p");
					p.className = "request-message";
					p.textContent = c.details.message;
					li.appendChild(p);
					for (const f of c.details.fields || []) {
						const d = document.createElement("p");
						d.textContent = f.label + ": " + f.value;
						li.appendChild(d);
					}
					for (const [label, approve] of [["Approve", true], ["Deny", false]]) {
						const b = document.createElement("button");
						b.textContent = label;
						b.className = approve ? "approve" : "deny";
						b.addEventListener("click", () => answer(c.sid, approve));
						li.appendChild(b);
					}
					ul.appendChild(li);
				}
			}
		} catch (e) {
			// the server is restarting: try again
		}
		setTimeout(poll, 1000);
	}

	async function main() {
		const h = new URLSearchParams(location.hash.slice(1));
		try {
			if (h.get("t")) {
				history.replaceState(null, "", location.pathname); // the token works once: do not keep it
				await enrol(h.get("s"), h.get("i"), h.get("t"));
			} else if (!(await load())) {
				$("phone-status").textContent = "Not set up: open the link the app shows when you set up your phone.";
				return;
			}
		} catch (e) {
			$("phone-status").textContent = "Could not set up: " + e.message;
			return;
		}
		$("phone-status").textContent = "Enrolled: waiting for requests to approve.";
		poll();
	}
	main();
})();
