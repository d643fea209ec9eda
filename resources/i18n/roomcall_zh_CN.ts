<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>CallSession</name>
    <message>
        <location filename="../../app/roomcall/ui/call_session.py" line="135"/>
        <source>reconnecting…</source>
        <translation>正在重连…</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/call_session.py" line="216"/>
        <source>Asking {name} to leave…</source>
        <translation>正在请 {name} 离开…</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/call_session.py" line="289"/>
        <source>Connection lost for too long; rejoining the room…</source>
        <translation>连接中断时间过长，正在重新加入房间…</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/call_session.py" line="313"/>
        <source>Connection lost for too long; rejoined the room.</source>
        <translation>连接中断时间过长，已重新加入房间。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/call_session.py" line="333"/>
        <source>{name} joined</source>
        <translation>{name} 加入了</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/call_session.py" line="348"/>
        <source>{name} left</source>
        <translation>{name} 离开了</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/call_session.py" line="510"/>
        <source>Screen sharing stopped: the screen or window can no longer be captured.</source>
        <translation>屏幕共享已停止：无法再捕获该屏幕或窗口。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/call_session.py" line="538"/>
        <source>You</source>
        <translation>我</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/call_session.py" line="548"/>
        <source>Your camera is still off.</source>
        <translation>你的摄像头仍处于关闭状态。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/call_session.py" line="549"/>
        <source>Your camera is still on.</source>
        <translation>你的摄像头仍处于开启状态。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/call_session.py" line="550"/>
        <source>Your microphone is still off.</source>
        <translation>你的麦克风仍处于关闭状态。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/call_session.py" line="551"/>
        <source>Your microphone is still on.</source>
        <translation>你的麦克风仍处于开启状态。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/call_session.py" line="558"/>
        <source>The connection to the room is being restored; try again once it is back.</source>
        <translation>正在恢复与房间的连接，连接恢复后请再试一次。</translation>
    </message>
</context>
<context>
    <name>Chat</name>
    <message>
        <location filename="../../app/roomcall/ui/chat.py" line="58"/>
        <source>Nobody else is here yet.</source>
        <translation>还没有其他人。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/chat.py" line="60"/>
        <source>{name} is here.</source>
        <translation>{name} 在这里。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/chat.py" line="62"/>
        <source>{names} and {last} are here.</source>
        <translation>{names} 和 {last} 在这里。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/chat.py" line="64"/>
        <source>{names} and {count} others are here.</source>
        <translation>{names} 以及另外 {count} 人在这里。</translation>
    </message>
</context>
<context>
    <name>ChatView</name>
    <message>
        <location filename="../../app/roomcall/ui/chat.py" line="161"/>
        <source>Send</source>
        <translation>发送</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/chat.py" line="162"/>
        <source>Write a message…</source>
        <translation>输入消息…</translation>
    </message>
</context>
<context>
    <name>Devices</name>
    <message>
        <location filename="../../app/roomcall/ui/device_names.py" line="21"/>
        <source>System default</source>
        <translation>系统默认</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/device_names.py" line="23"/>
        <source>System default (sound card)</source>
        <translation>系统默认（声卡）</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/device_names.py" line="25"/>
        <source>PulseAudio sound server</source>
        <translation>PulseAudio 声音服务</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/device_names.py" line="27"/>
        <source>PipeWire sound server</source>
        <translation>PipeWire 声音服务</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/device_names.py" line="43"/>
        <source>{device}, default</source>
        <translation>{device}（默认）</translation>
    </message>
</context>
<context>
    <name>Errors</name>
    <message>
        <location filename="../../app/roomcall/ui/errors.py" line="18"/>
        <source>This invite has expired. Ask the host for a new one.</source>
        <translation>此邀请已过期，请向主持人索取新的邀请。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/errors.py" line="20"/>
        <source>This invite is not valid for this server. Ask the host for a new one.</source>
        <translation>此邀请对该服务器无效，请向主持人索取新的邀请。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/errors.py" line="23"/>
        <source>This invite link no longer works: the host revoked it, or the call has ended. Ask the host for a new one.</source>
        <translation>此邀请链接已失效：主持人已将其撤销，或通话已结束。请向主持人索取新的链接。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/errors.py" line="26"/>
        <source>This invite link has expired. Ask the host for a new one.</source>
        <translation>此邀请链接已过期。请向主持人索取新的链接。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/errors.py" line="29"/>
        <source>This invite link has been used as often as the host allowed. Ask the host for a new one.</source>
        <translation>此邀请链接的使用次数已达主持人设定的上限。请向主持人索取新的链接。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/errors.py" line="32"/>
        <source>Too many attempts to join from this computer. Wait a minute, then try again.</source>
        <translation>此电脑尝试加入的次数过多。请等一分钟后再试。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/errors.py" line="35"/>
        <source>The server did not accept that name. Use at most 128 characters.</source>
        <translation>服务器不接受这个名字。名字最多 128 个字符。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/errors.py" line="38"/>
        <source>The room is full. Try again when someone has left.</source>
        <translation>房间已满，请在有人离开后再试。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/errors.py" line="40"/>
        <source>You are already in this room from another window or device.</source>
        <translation>你已经在另一个窗口或设备上加入了这个房间。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/errors.py" line="43"/>
        <source>The host closed the room.</source>
        <translation>主持人关闭了房间。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/errors.py" line="47"/>
        <source>the room server</source>
        <translation>房间服务器</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/errors.py" line="48"/>
        <source>Could not reach {server}. Check the address and that the server is running.</source>
        <translation>无法连接 {server}。请检查地址，并确认服务器正在运行。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/errors.py" line="51"/>
        <source>The connection to the room was lost. Join again to continue.</source>
        <translation>与房间的连接已断开，请重新加入。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/errors.py" line="54"/>
        <source>The room server stopped answering. Join again to continue.</source>
        <translation>房间服务器没有响应，请重新加入。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/errors.py" line="57"/>
        <source>Only the host can do that.</source>
        <translation>只有主持人可以这样做。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/errors.py" line="59"/>
        <source>No camera could be opened. You can still join without video.</source>
        <translation>无法打开摄像头。你仍可以不带视频加入。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/errors.py" line="62"/>
        <source>The screen or window could not be captured. It may have closed; pick it again.</source>
        <translation>无法捕获该屏幕或窗口，它可能已关闭；请重新选择。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/errors.py" line="65"/>
        <source>No microphone could be opened. You can still join and listen.</source>
        <translation>无法打开麦克风。你仍可以加入并收听。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/errors.py" line="68"/>
        <source>The speaker could not be used. Pick another one in the room panel.</source>
        <translation>无法使用扬声器，请在房间面板中选择其他设备。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/errors.py" line="71"/>
        <source>Something went wrong. Please try again.</source>
        <translation>出错了，请重试。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/errors.py" line="72"/>
        <source>Something went wrong (error {code}). Please try again.</source>
        <translation>出错了（错误 {code}），请重试。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/errors.py" line="78"/>
        <source>The host removed you from this room. You can join it again only if the host lets you back in.</source>
        <translation>主持人已将你移出此房间。只有主持人允许后，你才能再次加入。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/errors.py" line="91"/>
        <source>You joined this room from another window.</source>
        <translation>你已从另一个窗口加入了此房间。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/errors.py" line="95"/>
        <source>The host ended the call.</source>
        <translation>主持人结束了通话。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/errors.py" line="97"/>
        <source>The room server stopped, so the call ended.</source>
        <translation>房间服务器已停止，通话已结束。</translation>
    </message>
</context>
<context>
    <name>IceServer</name>
    <message>
        <location filename="../../app/roomcall/ui/ice_servers.py" line="60"/>
        <source>&quot;{url}&quot; is not a STUN or TURN address: it starts with stun:, stuns:, turn: or turns:, then the host.</source>
        <translation>“{url}”不是 STUN 或 TURN 地址：地址以 stun:、stuns:、turn: 或 turns: 开头，后接主机名。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/ice_servers.py" line="64"/>
        <source>The TURN server {url} needs a credential: its password, with the username; or, with the username left empty, the static-auth-secret of your coturn.</source>
        <translation>TURN 服务器 {url} 需要凭据：填写密码和用户名；或者将用户名留空，填写你的 coturn 的 static-auth-secret。</translation>
    </message>
</context>
<context>
    <name>InviteDialog</name>
    <message>
        <location filename="../../app/roomcall/ui/invite_dialog.py" line="166"/>
        <source>Type the name of the person you invite.</source>
        <translation>请输入受邀人的名字。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/invite_dialog.py" line="248"/>
        <source>This link is on the clipboard.</source>
        <translation>此链接已复制到剪贴板。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/invite_dialog.py" line="250"/>
        <source>The clipboard holds something else: press Copy to put this link there.</source>
        <translation>剪贴板中是其他内容：按“复制”将此链接放入剪贴板。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/invite_dialog.py" line="263"/>
        <source>Invite people</source>
        <translation>邀请他人</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/invite_dialog.py" line="264"/>
        <source>Room link</source>
        <translation>房间链接</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/invite_dialog.py" line="266"/>
        <source>Anyone with this link can join; each person types their own name. Send it to a group, or post it in a chat.</source>
        <translation>任何拿到此链接的人都可以加入，每人输入自己的名字。可以发给一个群组，或贴到聊天中。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/invite_dialog.py" line="268"/>
        <source>Create room link</source>
        <translation>创建房间链接</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/invite_dialog.py" line="269"/>
        <source>Personal invite</source>
        <translation>个人邀请</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/invite_dialog.py" line="270"/>
        <source>Name of the person you invite</source>
        <translation>受邀人的名字</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/invite_dialog.py" line="271"/>
        <source>Create personal link</source>
        <translation>创建个人链接</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/invite_dialog.py" line="272"/>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/invite_dialog.py" line="277"/>
        <source>Links that work now</source>
        <translation>当前有效的链接</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/invite_dialog.py" line="278"/>
        <source>None yet.</source>
        <translation>暂无。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/invite_dialog.py" line="279"/>
        <source>Revoke all links</source>
        <translation>撤销所有链接</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/invite_dialog.py" line="274"/>
        <source>This room only accepts people on this computer. To invite people on other computers, leave and start the room again with &quot;Accept guests from other computers on the network&quot;.</source>
        <translation>此房间只接受本机上的人。要邀请其他电脑上的人，请离开后勾选“接受网络上其他电脑的访客”重新开启房间。</translation>
    </message>
</context>
<context>
    <name>JoinForm</name>
    <message>
        <location filename="../../app/roomcall/ui/join_form.py" line="157"/>
        <source>Guest</source>
        <translation>访客</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/join_form.py" line="168"/>
        <source>roomcall</source>
        <translation>roomcall</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/join_form.py" line="170"/>
        <source>Start a room on this computer and invite people, or join a room with the invite link you were sent.</source>
        <translation>在本机开启一个房间并邀请他人，或用收到的邀请链接加入房间。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/join_form.py" line="172"/>
        <source>Your name</source>
        <translation>你的名字</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/join_form.py" line="173"/>
        <source>How others will see you</source>
        <translation>其他人看到的名字</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/join_form.py" line="174"/>
        <source>Start a room</source>
        <translation>开启房间</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/join_form.py" line="175"/>
        <source>Room name</source>
        <translation>房间名</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/join_form.py" line="176"/>
        <source>e.g. Team sync</source>
        <translation>例如：团队周会</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/join_form.py" line="177"/>
        <source>Accept guests from other computers on the network</source>
        <translation>接受网络上其他电脑的访客</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/join_form.py" line="178"/>
        <source>Start room</source>
        <translation>开启房间</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/join_form.py" line="179"/>
        <source>Join a room</source>
        <translation>加入房间</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/join_form.py" line="180"/>
        <source>Invite link</source>
        <translation>邀请链接</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/join_form.py" line="181"/>
        <source>roomcall://… or ws://host:port</source>
        <translation>roomcall://… 或 ws://主机:端口</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/join_form.py" line="182"/>
        <source>Token</source>
        <translation>令牌</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/join_form.py" line="183"/>
        <source>Only needed with a server address</source>
        <translation>仅在填写服务器地址时需要</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/join_form.py" line="184"/>
        <source>Join</source>
        <translation>加入</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/join_form.py" line="185"/>
        <source>No camera found: send a test pattern instead</source>
        <translation>未找到摄像头：改为发送测试图案</translation>
    </message>
</context>
<context>
    <name>Joining</name>
    <message>
        <location filename="../../app/roomcall/ui/joining.py" line="113"/>
        <source>You are invited to the room {room}.</source>
        <translation>你受邀加入房间 {room}。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/joining.py" line="115"/>
        <source>You are joining the room {room}.</source>
        <translation>你将加入房间 {room}。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/joining.py" line="262"/>
        <source>This link has no port. Invite links look like roomcall://host:port/r/code: ask the host to copy the whole link again.</source>
        <translation>此链接缺少端口。邀请链接的格式为 roomcall://主机:端口/r/代码：请让主持人重新复制完整的链接。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/joining.py" line="266"/>
        <source>This invite link is damaged or incomplete. Ask the host to copy it again.</source>
        <translation>此邀请链接已损坏或不完整。请让主持人重新复制。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/joining.py" line="269"/>
        <source>A server address needs a token: paste the token the host gave you into Token, or paste the invite link (roomcall://…) instead.</source>
        <translation>服务器地址需要配合令牌使用：请将主持人给你的令牌粘贴到“令牌”一栏，或改为粘贴邀请链接（roomcall://…）。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/joining.py" line="273"/>
        <source>The server address must look like ws://host:port.</source>
        <translation>服务器地址的格式应为 ws://主机:端口。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/joining.py" line="274"/>
        <source>Paste the invite link you were sent (it starts with roomcall://), or a server address and a token.</source>
        <translation>请粘贴你收到的邀请链接（以 roomcall:// 开头），或填写服务器地址和令牌。</translation>
    </message>
</context>
<context>
    <name>LinkRow</name>
    <message>
        <location filename="../../app/roomcall/ui/invite_dialog.py" line="65"/>
        <source>For {name}</source>
        <translation>给 {name}</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/invite_dialog.py" line="67"/>
        <source>Room link, used by {count}</source>
        <translation>房间链接，已有 {count} 人使用</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/invite_dialog.py" line="68"/>
        <source>{what}, until {time}</source>
        <translation>{what}，有效至 {time}</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/invite_dialog.py" line="71"/>
        <source>Revoke</source>
        <translation>撤销</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../../app/roomcall/ui/window.py" line="174"/>
        <source>Could not start the room server on this computer: {error}</source>
        <translation>无法在本机启动房间服务器：{error}</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/window.py" line="279"/>
        <source>{name} (you)</source>
        <translation>{name}（我）</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/window.py" line="417"/>
        <source>roomcall</source>
        <translation>roomcall</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/window.py" line="419"/>
        <source>roomcall: {room}</source>
        <translation>roomcall：{room}</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/window.py" line="421"/>
        <source>&amp;Room</source>
        <translation>房间(&amp;R)</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/window.py" line="422"/>
        <source>&amp;Language</source>
        <translation>语言(&amp;L)</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/window.py" line="423"/>
        <source>&amp;Invite…</source>
        <translation>邀请(&amp;I)…</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/window.py" line="424"/>
        <source>L&amp;eave</source>
        <translation>离开(&amp;E)</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/window.py" line="425"/>
        <source>&amp;Settings…</source>
        <translation>设置(&amp;S)…</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/window.py" line="426"/>
        <source>Call s&amp;tatistics…</source>
        <translation>通话统计(&amp;T)…</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/window.py" line="427"/>
        <source>Statistics</source>
        <translation>统计</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/window.py" line="428"/>
        <source>Figures of every track, to attach to a bug report</source>
        <translation>每条音视频轨道的数据，可附在问题报告中</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/window.py" line="430"/>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
</context>
<context>
    <name>PreJoinScreen</name>
    <message>
        <location filename="../../app/roomcall/ui/prejoin.py" line="187"/>
        <location filename="../../app/roomcall/ui/prejoin.py" line="354"/>
        <source>None found</source>
        <translation>未找到</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/prejoin.py" line="213"/>
        <source>Guest</source>
        <translation>访客</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/prejoin.py" line="287"/>
        <source>No sound output: {error}</source>
        <translation>无法输出声音：{error}</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/prejoin.py" line="294"/>
        <source>Playing a test tone…</source>
        <translation>正在播放测试音…</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/prejoin.py" line="298"/>
        <source>Did you hear it? If not, pick another speaker.</source>
        <translation>听到了吗？如果没有，请选择其他扬声器。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/prejoin.py" line="326"/>
        <location filename="../../app/roomcall/ui/prejoin.py" line="356"/>
        <source>No camera</source>
        <translation>没有摄像头</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/prejoin.py" line="342"/>
        <source>Ready to join?</source>
        <translation>准备好加入了吗？</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/prejoin.py" line="344"/>
        <source>Your name</source>
        <translation>你的名字</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/prejoin.py" line="344"/>
        <source>Camera</source>
        <translation>摄像头</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/prejoin.py" line="345"/>
        <source>Microphone</source>
        <translation>麦克风</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/prejoin.py" line="345"/>
        <source>Level</source>
        <translation>音量</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/prejoin.py" line="346"/>
        <source>Speaker</source>
        <translation>扬声器</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/prejoin.py" line="348"/>
        <source>How others will see you</source>
        <translation>其他人看到的你的名字</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/prejoin.py" line="349"/>
        <source>Test speaker</source>
        <translation>测试扬声器</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/prejoin.py" line="350"/>
        <source>Join now</source>
        <translation>立即加入</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/prejoin.py" line="351"/>
        <source>Back</source>
        <translation>返回</translation>
    </message>
</context>
<context>
    <name>Prompts</name>
    <message>
        <location filename="../../app/roomcall/ui/end_call.py" line="67"/>
        <source>Remove from the call</source>
        <translation>移出通话</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/end_call.py" line="68"/>
        <source>Remove {name} from the call? They cannot come back into this room unless you let them.</source>
        <translation>要将 {name} 移出通话吗？除非你允许，否则对方无法再进入此房间。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/end_call.py" line="70"/>
        <source>Remove</source>
        <translation>移出</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/end_call.py" line="72"/>
        <location filename="../../app/roomcall/ui/end_call.py" line="99"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/end_call.py" line="89"/>
        <source>You are the host. Closing roomcall ends the call for everyone unless someone else takes over.</source>
        <translation>你是主持人。关闭 roomcall 将为所有人结束通话，除非有其他人接任主持人。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/end_call.py" line="92"/>
        <source>You are the host. End the call for everyone, or leave and let someone else host?</source>
        <translation>你是主持人。要为所有人结束通话，还是离开并让其他人主持？</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/end_call.py" line="94"/>
        <source>End for everyone</source>
        <translation>为所有人结束</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/end_call.py" line="97"/>
        <source>Leave and make {name} host</source>
        <translation>离开并让 {name} 主持</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/end_call.py" line="101"/>
        <source>End the call?</source>
        <translation>结束通话？</translation>
    </message>
</context>
<context>
    <name>RoomPanel</name>
    <message>
        <location filename="../../app/roomcall/ui/room_panel.py" line="236"/>
        <location filename="../../app/roomcall/ui/room_panel.py" line="413"/>
        <source>{name} (you)</source>
        <translation>{name}（我）</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/room_panel.py" line="247"/>
        <location filename="../../app/roomcall/ui/room_panel.py" line="409"/>
        <source>HOST</source>
        <translation>主持人</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/room_panel.py" line="248"/>
        <location filename="../../app/roomcall/ui/room_panel.py" line="410"/>
        <source>Kick</source>
        <translation>移出</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/room_panel.py" line="249"/>
        <location filename="../../app/roomcall/ui/room_panel.py" line="411"/>
        <source>Make host</source>
        <translation>设为主持人</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/room_panel.py" line="310"/>
        <location filename="../../app/roomcall/ui/room_panel.py" line="405"/>
        <source>None found</source>
        <translation>未找到</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/room_panel.py" line="358"/>
        <source>Can&apos;t connect video</source>
        <translation>视频无法连接</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/room_panel.py" line="360"/>
        <source>Their network or yours blocks direct calls; the server needs a relay (TURN) — see Settings.</source>
        <translation>对方或你的网络阻止了直接通话，服务器需要中继（TURN）——请查看“设置”。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/room_panel.py" line="364"/>
        <source>Reconnecting video…</source>
        <translation>正在重新连接视频…</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/room_panel.py" line="372"/>
        <location filename="../../app/roomcall/ui/room_panel.py" line="373"/>
        <source>Sharing screen</source>
        <translation>正在共享屏幕</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/room_panel.py" line="374"/>
        <location filename="../../app/roomcall/ui/room_panel.py" line="375"/>
        <source>Speaking</source>
        <translation>正在发言</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/room_panel.py" line="378"/>
        <source>Room</source>
        <translation>房间</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/room_panel.py" line="380"/>
        <location filename="../../app/roomcall/ui/room_panel.py" line="381"/>
        <source>Connected</source>
        <translation>已连接</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/room_panel.py" line="382"/>
        <source>Connecting…</source>
        <translation>正在连接…</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/room_panel.py" line="383"/>
        <source>Connection lost, reconnecting…</source>
        <translation>连接中断，正在重连…</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/room_panel.py" line="384"/>
        <source>Not connected</source>
        <translation>未连接</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/room_panel.py" line="391"/>
        <source>Mic on</source>
        <translation>麦克风开</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/room_panel.py" line="391"/>
        <source>Mic off</source>
        <translation>麦克风关</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/room_panel.py" line="393"/>
        <source>Camera on</source>
        <translation>摄像头开</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/room_panel.py" line="393"/>
        <source>Camera off</source>
        <translation>摄像头关</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/room_panel.py" line="394"/>
        <source>Invite…</source>
        <translation>邀请…</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/room_panel.py" line="395"/>
        <source>Share screen…</source>
        <translation>共享屏幕…</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/room_panel.py" line="396"/>
        <source>Leave</source>
        <translation>离开</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/room_panel.py" line="397"/>
        <source>People</source>
        <translation>成员</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/room_panel.py" line="398"/>
        <source>Devices</source>
        <translation>设备</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/room_panel.py" line="399"/>
        <source>Chat</source>
        <translation>聊天</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/room_panel.py" line="400"/>
        <source>Camera</source>
        <translation>摄像头</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/room_panel.py" line="400"/>
        <source>Microphone</source>
        <translation>麦克风</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/room_panel.py" line="401"/>
        <source>Speaker</source>
        <translation>扬声器</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <location filename="../../app/roomcall/ui/settings_dialog.py" line="54"/>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/settings_dialog.py" line="57"/>
        <source>Calls connect directly between computers. Where a network blocks that, a relay (TURN) server carries the media. Add STUN and TURN servers of your own here; with none, roomcall uses those the room server provides. For a coturn of your own, leave Username empty and enter its static-auth-secret as the Credential. Rooms you host give your guests these STUN servers and the coturn ones (with passwords made for each guest), never a TURN password of yours. Changes apply to the next call.</source>
        <translation>通话在电脑之间直接连接。如果网络阻止直接连接，则由中继（TURN）服务器转发媒体。你可以在这里添加自己的 STUN 和 TURN 服务器；如果不添加，roomcall 将使用房间服务器提供的服务器。如果使用你自己的 coturn，请将“用户名”留空，并把它的 static-auth-secret 填为“凭据”。你主持的房间会把这些 STUN 服务器和 coturn 服务器提供给来宾（为每位来宾生成单独的密码），但绝不会提供你自己的 TURN 密码。更改将在下一次通话时生效。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/settings_dialog.py" line="67"/>
        <source>URL</source>
        <translation>地址</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/settings_dialog.py" line="67"/>
        <source>Username</source>
        <translation>用户名</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/settings_dialog.py" line="67"/>
        <source>Credential</source>
        <translation>凭据</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/settings_dialog.py" line="74"/>
        <source>Add server</source>
        <translation>添加服务器</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/settings_dialog.py" line="75"/>
        <source>Remove</source>
        <translation>删除</translation>
    </message>
</context>
<context>
    <name>ShareBanner</name>
    <message>
        <location filename="../../app/roomcall/ui/share_picker.py" line="260"/>
        <source>You are sharing a window: {title}</source>
        <translation>你正在共享窗口：{title}</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/share_picker.py" line="263"/>
        <source>You are sharing your screen</source>
        <translation>你正在共享屏幕</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/share_picker.py" line="264"/>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
</context>
<context>
    <name>SharePicker</name>
    <message>
        <location filename="../../app/roomcall/ui/share_picker.py" line="42"/>
        <source>Screen sharing needs an X11 session. On Wayland only the desktop&apos;s screen-sharing portal can capture the screen, and roomcall cannot use it yet: choose an &quot;Xorg&quot; or &quot;X11&quot; session at login to share.</source>
        <translation>屏幕共享需要 X11 会话。在 Wayland 上只有桌面的屏幕共享门户能够捕获屏幕，而 roomcall 目前还不能使用它：请在登录时选择“Xorg”或“X11”会话后再共享。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/share_picker.py" line="46"/>
        <source>There is no X11 display to capture (DISPLAY is not set).</source>
        <translation>没有可捕获的 X11 显示（未设置 DISPLAY）。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/share_picker.py" line="48"/>
        <source>This build of roomcall has no screen capture for this system.</source>
        <translation>此版本的 roomcall 不支持在该系统上捕获屏幕。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/share_picker.py" line="50"/>
        <source>Screen sharing is not supported on this operating system.</source>
        <translation>此操作系统不支持屏幕共享。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/share_picker.py" line="75"/>
        <source>Nothing to share was found on this display.</source>
        <translation>此显示器上没有找到可共享的内容。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/share_picker.py" line="191"/>
        <source>Share screen</source>
        <translation>共享屏幕</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/share_picker.py" line="192"/>
        <source>Choose a screen or a window to show everyone in the call.</source>
        <translation>选择要向通话中所有人展示的屏幕或窗口。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/share_picker.py" line="193"/>
        <source>Screens</source>
        <translation>屏幕</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/share_picker.py" line="195"/>
        <source>Windows</source>
        <translation>窗口</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/share_picker.py" line="202"/>
        <source>{fps} frames/s</source>
        <translation>{fps} 帧/秒</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/share_picker.py" line="204"/>
        <source>Up to {width}×{height}</source>
        <translation>最大 {width}×{height}</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/share_picker.py" line="206"/>
        <source>Frame rate</source>
        <translation>帧率</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/share_picker.py" line="207"/>
        <source>Size</source>
        <translation>尺寸</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/share_picker.py" line="208"/>
        <source>Share</source>
        <translation>共享</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/share_picker.py" line="209"/>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/share_picker.py" line="210"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/share_picker.py" line="215"/>
        <source>All screens</source>
        <translation>所有屏幕</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/share_picker.py" line="217"/>
        <source>{name} ({width}×{height})</source>
        <translation>{name}（{width}×{height}）</translation>
    </message>
</context>
<context>
    <name>SignalBars</name>
    <message>
        <location filename="../../app/roomcall/ui/signal_bars.py" line="44"/>
        <source>not measured yet</source>
        <translation>尚未测得</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/signal_bars.py" line="45"/>
        <source>excellent</source>
        <translation>极好</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/signal_bars.py" line="46"/>
        <source>good</source>
        <translation>良好</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/signal_bars.py" line="47"/>
        <source>fair</source>
        <translation>一般</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/signal_bars.py" line="48"/>
        <source>poor</source>
        <translation>较差</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/signal_bars.py" line="55"/>
        <source>Network: sending {uplink}, receiving {downlink}</source>
        <translation>网络：发送{uplink}，接收{downlink}</translation>
    </message>
</context>
<context>
    <name>StatsPanel</name>
    <message>
        <location filename="../../app/roomcall/ui/stats_panel.py" line="89"/>
        <source>roomcall call statistics, {time} UTC, rates over {seconds:.1f} s</source>
        <translation>roomcall 通话统计，{time} UTC，速率按 {seconds:.1f} 秒计算</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/stats_panel.py" line="105"/>
        <source>Copied to the clipboard.</source>
        <translation>已复制到剪贴板。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/stats_panel.py" line="160"/>
        <source>Network of {name}: sending {uplink}, receiving {downlink}</source>
        <translation>{name} 的网络：发送{uplink}，接收{downlink}</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/stats_panel.py" line="168"/>
        <source>video</source>
        <translation>视频</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/stats_panel.py" line="168"/>
        <source>audio</source>
        <translation>音频</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/stats_panel.py" line="172"/>
        <source>sent to {name}</source>
        <translation>发送给 {name}</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/stats_panel.py" line="173"/>
        <source>sent</source>
        <translation>已发送</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/stats_panel.py" line="175"/>
        <source>received</source>
        <translation>接收</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/stats_panel.py" line="179"/>
        <source>{value} kbit/s</source>
        <translation>{value} kbit/s</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/stats_panel.py" line="182"/>
        <source>{share} ({lost} lost)</source>
        <translation>{share}（丢失 {lost} 个）</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/stats_panel.py" line="197"/>
        <source>Call statistics</source>
        <translation>通话统计</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/stats_panel.py" line="199"/>
        <source>Member</source>
        <translation>成员</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/stats_panel.py" line="199"/>
        <source>Track</source>
        <translation>轨道</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/stats_panel.py" line="199"/>
        <source>Direction</source>
        <translation>方向</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/stats_panel.py" line="199"/>
        <source>Bitrate</source>
        <translation>码率</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/stats_panel.py" line="200"/>
        <source>Frame rate (fps)</source>
        <translation>帧率 (fps)</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/stats_panel.py" line="200"/>
        <source>Resolution</source>
        <translation>分辨率</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/stats_panel.py" line="200"/>
        <source>Loss</source>
        <translation>丢包</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/stats_panel.py" line="200"/>
        <source>RTT</source>
        <translation>往返时延</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/stats_panel.py" line="201"/>
        <source>Jitter</source>
        <translation>抖动</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/stats_panel.py" line="201"/>
        <source>Concealed</source>
        <translation>丢包补偿</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/stats_panel.py" line="202"/>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/stats_panel.py" line="203"/>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
</context>
<context>
    <name>TileControls</name>
    <message>
        <location filename="../../app/roomcall/ui/tile_controls.py" line="48"/>
        <location filename="../../app/roomcall/ui/tile_controls.py" line="58"/>
        <source>Unpin</source>
        <translation>取消固定</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/tile_controls.py" line="48"/>
        <location filename="../../app/roomcall/ui/tile_controls.py" line="58"/>
        <source>Pin</source>
        <translation>固定</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/tile_controls.py" line="49"/>
        <source>Keep this tile on stage</source>
        <translation>把这个画面固定在主画面</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/tile_controls.py" line="50"/>
        <source>Let the view choose what is on stage</source>
        <translation>由视图决定主画面显示什么</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/tile_controls.py" line="60"/>
        <source>Exit full screen</source>
        <translation>退出全屏</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/tile_controls.py" line="61"/>
        <source>Full screen</source>
        <translation>全屏</translation>
    </message>
</context>
<context>
    <name>VideoTile</name>
    <message>
        <location filename="../../app/roomcall/ui/video_tile.py" line="275"/>
        <source>Can&apos;t connect video with {name}. Their network or yours blocks direct calls; the server needs a relay (TURN) — see Settings.</source>
        <translation>无法与 {name} 建立视频连接。对方或你的网络阻止了直接通话，服务器需要中继（TURN）——请查看“设置”。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/video_tile.py" line="279"/>
        <source>Reconnecting video…</source>
        <translation>正在重新连接视频…</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/video_tile.py" line="220"/>
        <source> (you)</source>
        <translation>（我）</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/video_tile.py" line="219"/>
        <source>{name}&apos;s screen</source>
        <translation>{name} 的屏幕</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/video_tile.py" line="458"/>
        <source>HOST</source>
        <translation>主持人</translation>
    </message>
</context>
<context>
    <name>ViewSwitch</name>
    <message>
        <location filename="../../app/roomcall/ui/view_switch.py" line="63"/>
        <source>Grid</source>
        <translation>宫格</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/view_switch.py" line="63"/>
        <source>Speaker</source>
        <translation>演讲者</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/view_switch.py" line="64"/>
        <source>Presentation</source>
        <translation>演示</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/view_switch.py" line="65"/>
        <source>Everyone the same size</source>
        <translation>所有人一样大</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/view_switch.py" line="66"/>
        <source>The person speaking large, the others in a strip</source>
        <translation>发言的人显示为大画面，其他人排在下方</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/view_switch.py" line="67"/>
        <source>The shared screen large, cameras in a strip</source>
        <translation>共享的屏幕显示为大画面，摄像头画面排在下方</translation>
    </message>
</context>
</TS>
