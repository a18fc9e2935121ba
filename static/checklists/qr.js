// The QR page: unsaved answers resent when back online, photos downscaled before upload, GPS.
(function(){
var pending=new Map(),net=document.getElementById("net");
function show(){pending.forEach(function(ev,elt){if(!document.body.contains(elt))pending.delete(elt)});
 net.classList.toggle("show",pending.size>0)}
function item(e){return e.closest?e.closest(".item"):null}
function retry(){pending.forEach(function(ev,elt){if(document.body.contains(elt)){htmx.trigger(elt,ev)}});}
document.body.addEventListener("htmx:beforeRequest",function(e){var it=item(e.detail.elt);if(it)it.setAttribute("aria-busy","true")});
function failed(e){var elt=e.detail.elt,it=item(elt);if(!it)return;it.classList.add("unsaved");it.removeAttribute("aria-busy");
 pending.set(elt,elt.dataset.ev||"click");show()}
document.body.addEventListener("htmx:sendError",failed);
document.body.addEventListener("htmx:responseError",failed);
document.body.addEventListener("htmx:afterRequest",function(e){if(e.detail.successful){pending.delete(e.detail.elt);show()}});
document.body.addEventListener("htmx:load",show);
document.getElementById("net-retry").addEventListener("click",retry);
window.addEventListener("online",retry);
document.body.addEventListener("change",function(e){var inp=e.target;if(!inp.matches("input[data-photo]"))return;
 var f=inp.files&&inp.files[0];function go(){htmx.trigger(inp,"photo-ready")}
 if(!f||!/^image\//.test(f.type)||!window.createImageBitmap){go();return}
 createImageBitmap(f).then(function(b){var m=1600,s=Math.min(1,m/Math.max(b.width,b.height));
  if(s===1&&f.size<1500000){go();return}
  var c=document.createElement("canvas");c.width=Math.round(b.width*s);c.height=Math.round(b.height*s);
  c.getContext("2d").drawImage(b,0,0,c.width,c.height);c.toBlob(function(bl){try{var d=new DataTransfer();
  d.items.add(new File([bl],(f.name||"photo").replace(/\.\w+$/,"")+".jpg",{type:"image/jpeg"}));inp.files=d.files}catch(x){}go()},"image/jpeg",.82)
 }).catch(go)});
if(navigator.geolocation){navigator.geolocation.getCurrentPosition(function(p){
 var la=document.getElementById("latitude"),lo=document.getElementById("longitude");
 if(la&&lo){la.value=p.coords.latitude.toFixed(6);lo.value=p.coords.longitude.toFixed(6)}},function(){},{maximumAge:600000,timeout:15000})}
})();
