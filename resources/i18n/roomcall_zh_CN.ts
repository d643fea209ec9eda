<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>CallSession</name>
    <message>
        <location filename="../../app/roomcall/ui/call_session.py" line="88"/>
        <source>reconnecting…</source>
        <translation>正在重连…</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/call_session.py" line="156"/>
        <source>Asking {name} to leave…</source>
        <translation>正在请 {name} 离开…</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/call_session.py" line="189"/>
        <source>Connection lost for too long; rejoining the room…</source>
        <translation>连接中断时间过长，正在重新加入房间…</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/call_session.py" line="210"/>
        <source>Connection lost for too long; rejoined the room.</source>
        <translation>连接中断时间过长，已重新加入房间。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/call_session.py" line="228"/>
        <source>{name} joined</source>
        <translation>{name} 加入了</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/call_session.py" line="240"/>
        <source>{name} left</source>
        <translation>{name} 离开了</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/call_session.py" line="347"/>
        <source>You</source>
        <translation>我</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/call_session.py" line="357"/>
        <source>Your camera is still off.</source>
        <translation>你的摄像头仍处于关闭状态。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/call_session.py" line="358"/>
        <source>Your camera is still on.</source>
        <translation>你的摄像头仍处于开启状态。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/call_session.py" line="359"/>
        <source>Your microphone is still off.</source>
        <translation>你的麦克风仍处于关闭状态。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/call_session.py" line="360"/>
        <source>Your microphone is still on.</source>
        <translation>你的麦克风仍处于开启状态。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/call_session.py" line="367"/>
        <source>The connection to the room is being restored; try again once it is back.</source>
        <translation>正在恢复与房间的连接，连接恢复后请再试一次。</translation>
    </message>
</context>
<context>
    <name>ChatView</name>
    <message>
        <location filename="../../app/roomcall/ui/chat.py" line="120"/>
        <source>Send</source>
        <translation>发送</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/chat.py" line="121"/>
        <source>Write a message…</source>
        <translation>输入消息…</translation>
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
        <source>The room is full. Try again when someone has left.</source>
        <translation>房间已满，请在有人离开后再试。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/errors.py" line="25"/>
        <source>You are already in this room from another window or device.</source>
        <translation>你已经在另一个窗口或设备上加入了这个房间。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/errors.py" line="28"/>
        <source>The host closed the room.</source>
        <translation>主持人关闭了房间。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/errors.py" line="32"/>
        <source>the room server</source>
        <translation>房间服务器</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/errors.py" line="33"/>
        <source>Could not reach {server}. Check the address and that the server is running.</source>
        <translation>无法连接 {server}。请检查地址，并确认服务器正在运行。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/errors.py" line="36"/>
        <source>The connection to the room was lost. Join again to continue.</source>
        <translation>与房间的连接已断开，请重新加入。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/errors.py" line="39"/>
        <source>The room server stopped answering. Join again to continue.</source>
        <translation>房间服务器没有响应，请重新加入。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/errors.py" line="42"/>
        <source>Only the host can do that.</source>
        <translation>只有主持人可以这样做。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/errors.py" line="44"/>
        <source>No camera could be opened. You can still join without video.</source>
        <translation>无法打开摄像头。你仍可以不带视频加入。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/errors.py" line="47"/>
        <source>No microphone could be opened. You can still join and listen.</source>
        <translation>无法打开麦克风。你仍可以加入并收听。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/errors.py" line="50"/>
        <source>The speaker could not be used. Pick another one in the room panel.</source>
        <translation>无法使用扬声器，请在房间面板中选择其他设备。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/errors.py" line="53"/>
        <source>Something went wrong. Please try again.</source>
        <translation>出错了，请重试。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/errors.py" line="54"/>
        <source>Something went wrong (error {code}). Please try again.</source>
        <translation>出错了（错误 {code}），请重试。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/errors.py" line="60"/>
        <source>The host removed you from the room.</source>
        <translation>主持人已将你移出房间。</translation>
    </message>
</context>
<context>
    <name>IceServer</name>
    <message>
        <location filename="../../app/roomcall/ui/ice_servers.py" line="44"/>
        <source>&quot;{url}&quot; is not a STUN or TURN address: it starts with stun:, stuns:, turn: or turns:, then the host.</source>
        <translation>“{url}”不是 STUN 或 TURN 地址：地址以 stun:、stuns:、turn: 或 turns: 开头，后接主机名。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/ice_servers.py" line="48"/>
        <source>The TURN server {url} needs a username and a credential.</source>
        <translation>TURN 服务器 {url} 需要用户名和凭据。</translation>
    </message>
</context>
<context>
    <name>InviteDialog</name>
    <message>
        <location filename="../../app/roomcall/ui/invite_dialog.py" line="31"/>
        <source>Invite someone</source>
        <translation>邀请他人</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/invite_dialog.py" line="34"/>
        <source>Guest&apos;s name</source>
        <translation>访客姓名</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/invite_dialog.py" line="35"/>
        <source>Create link</source>
        <translation>生成链接</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/invite_dialog.py" line="38"/>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/invite_dialog.py" line="43"/>
        <source>The guest pastes the link into roomcall&apos;s join form, or runs roomcall --join LINK. It works for 24 hours.</source>
        <translation>访客把链接粘贴到 roomcall 的加入表单，或运行 roomcall --join 链接。链接 24 小时内有效。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/invite_dialog.py" line="49"/>
        <source>This room only accepts people on this computer. To invite people on other computers, leave and start the room again with &quot;Accept guests from other computers on the network&quot;.</source>
        <translation>此房间只接受本机上的人。要邀请其他电脑上的人，请离开后勾选“接受网络上其他电脑的访客”重新开启房间。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/invite_dialog.py" line="58"/>
        <source>Name</source>
        <translation>姓名</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/invite_dialog.py" line="62"/>
        <source>Link</source>
        <translation>链接</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/invite_dialog.py" line="77"/>
        <source>Guest</source>
        <translation>访客</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/invite_dialog.py" line="89"/>
        <source>Copied</source>
        <translation>已复制</translation>
    </message>
</context>
<context>
    <name>JoinForm</name>
    <message>
        <location filename="../../app/roomcall/ui/join_form.py" line="138"/>
        <source>Guest</source>
        <translation>访客</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/join_form.py" line="149"/>
        <source>roomcall</source>
        <translation>roomcall</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/join_form.py" line="151"/>
        <source>Start a room on this computer and invite people, or join a room with the invite link you were sent.</source>
        <translation>在本机开启一个房间并邀请他人，或用收到的邀请链接加入房间。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/join_form.py" line="153"/>
        <source>Your name</source>
        <translation>你的名字</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/join_form.py" line="154"/>
        <source>How others will see you</source>
        <translation>其他人看到的名字</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/join_form.py" line="155"/>
        <source>Start a room</source>
        <translation>开启房间</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/join_form.py" line="156"/>
        <source>Room name</source>
        <translation>房间名</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/join_form.py" line="157"/>
        <source>e.g. team-sync</source>
        <translation>例如 team-sync</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/join_form.py" line="158"/>
        <source>Accept guests from other computers on the network</source>
        <translation>接受网络上其他电脑的访客</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/join_form.py" line="159"/>
        <source>Start room</source>
        <translation>开启房间</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/join_form.py" line="160"/>
        <source>Join a room</source>
        <translation>加入房间</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/join_form.py" line="161"/>
        <source>Invite link</source>
        <translation>邀请链接</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/join_form.py" line="162"/>
        <source>roomcall://… or ws://host:port</source>
        <translation>roomcall://… 或 ws://主机:端口</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/join_form.py" line="163"/>
        <source>Token</source>
        <translation>令牌</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/join_form.py" line="164"/>
        <source>Only needed with a server address</source>
        <translation>仅在填写服务器地址时需要</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/join_form.py" line="165"/>
        <source>Join</source>
        <translation>加入</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/join_form.py" line="166"/>
        <source>No camera found: send a test pattern instead</source>
        <translation>未找到摄像头：改为发送测试图案</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../../app/roomcall/ui/window.py" line="127"/>
        <source>Could not start the room server on this computer: {error}</source>
        <translation>无法在本机启动房间服务器：{error}</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/window.py" line="142"/>
        <source>Paste the invite link you were sent (it starts with roomcall://), or a server address and a token.</source>
        <translation>请粘贴收到的邀请链接（以 roomcall:// 开头），或填写服务器地址和令牌。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/window.py" line="306"/>
        <source>roomcall</source>
        <translation>roomcall</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/window.py" line="308"/>
        <source>roomcall: {room}</source>
        <translation>roomcall：{room}</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/window.py" line="310"/>
        <source>&amp;Room</source>
        <translation>房间(&amp;R)</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/window.py" line="311"/>
        <source>&amp;Language</source>
        <translation>语言(&amp;L)</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/window.py" line="312"/>
        <source>&amp;Invite…</source>
        <translation>邀请(&amp;I)…</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/window.py" line="313"/>
        <source>L&amp;eave</source>
        <translation>离开(&amp;E)</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/window.py" line="314"/>
        <source>&amp;Settings…</source>
        <translation>设置(&amp;S)…</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/window.py" line="315"/>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
</context>
<context>
    <name>RoomPanel</name>
    <message>
        <location filename="../../app/roomcall/ui/room_panel.py" line="200"/>
        <location filename="../../app/roomcall/ui/room_panel.py" line="338"/>
        <source>{name} (you)</source>
        <translation>{name}（我）</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/room_panel.py" line="209"/>
        <location filename="../../app/roomcall/ui/room_panel.py" line="335"/>
        <source>HOST</source>
        <translation>主持人</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/room_panel.py" line="210"/>
        <location filename="../../app/roomcall/ui/room_panel.py" line="336"/>
        <source>Kick</source>
        <translation>移出</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/room_panel.py" line="254"/>
        <source>None found</source>
        <translation>未找到</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/room_panel.py" line="295"/>
        <source>Can&apos;t connect video</source>
        <translation>视频无法连接</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/room_panel.py" line="297"/>
        <source>Their network or yours blocks direct calls; the server needs a relay (TURN) — see Settings.</source>
        <translation>对方或你的网络阻止了直接通话，服务器需要中继（TURN）——请查看“设置”。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/room_panel.py" line="301"/>
        <source>Reconnecting video…</source>
        <translation>正在重新连接视频…</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/room_panel.py" line="309"/>
        <source>Room</source>
        <translation>房间</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/room_panel.py" line="311"/>
        <location filename="../../app/roomcall/ui/room_panel.py" line="312"/>
        <source>Connected</source>
        <translation>已连接</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/room_panel.py" line="313"/>
        <source>Connecting…</source>
        <translation>正在连接…</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/room_panel.py" line="314"/>
        <source>Connection lost, reconnecting…</source>
        <translation>连接中断，正在重连…</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/room_panel.py" line="315"/>
        <source>Not connected</source>
        <translation>未连接</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/room_panel.py" line="322"/>
        <source>Mic on</source>
        <translation>麦克风开</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/room_panel.py" line="322"/>
        <source>Mic off</source>
        <translation>麦克风关</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/room_panel.py" line="324"/>
        <source>Camera on</source>
        <translation>摄像头开</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/room_panel.py" line="324"/>
        <source>Camera off</source>
        <translation>摄像头关</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/room_panel.py" line="325"/>
        <source>Invite…</source>
        <translation>邀请…</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/room_panel.py" line="326"/>
        <source>Leave</source>
        <translation>离开</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/room_panel.py" line="327"/>
        <source>People</source>
        <translation>成员</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/room_panel.py" line="328"/>
        <source>Devices</source>
        <translation>设备</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/room_panel.py" line="329"/>
        <source>Chat</source>
        <translation>聊天</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/room_panel.py" line="330"/>
        <source>Camera</source>
        <translation>摄像头</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/room_panel.py" line="330"/>
        <source>Microphone</source>
        <translation>麦克风</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/room_panel.py" line="331"/>
        <source>Speaker</source>
        <translation>扬声器</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <location filename="../../app/roomcall/ui/settings_dialog.py" line="35"/>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/settings_dialog.py" line="38"/>
        <source>Calls connect directly between computers. Where a network blocks that, a relay (TURN) server carries the media. Add STUN and TURN servers of your own here; with none, roomcall uses those the room server provides. Changes apply to the next call.</source>
        <translation>通话在电脑之间直接连接。如果网络阻止直接连接，则由中继（TURN）服务器转发媒体。你可以在这里添加自己的 STUN 和 TURN 服务器；如果不添加，roomcall 将使用房间服务器提供的服务器。更改将在下一次通话时生效。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/settings_dialog.py" line="45"/>
        <source>URL</source>
        <translation>地址</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/settings_dialog.py" line="45"/>
        <source>Username</source>
        <translation>用户名</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/settings_dialog.py" line="45"/>
        <source>Credential</source>
        <translation>凭据</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/settings_dialog.py" line="50"/>
        <source>Add server</source>
        <translation>添加服务器</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/settings_dialog.py" line="51"/>
        <source>Remove</source>
        <translation>删除</translation>
    </message>
</context>
<context>
    <name>VideoTile</name>
    <message>
        <location filename="../../app/roomcall/ui/video_tile.py" line="180"/>
        <source>Can&apos;t connect video with {name}. Their network or yours blocks direct calls; the server needs a relay (TURN) — see Settings.</source>
        <translation>无法与 {name} 建立视频连接。对方或你的网络阻止了直接通话，服务器需要中继（TURN）——请查看“设置”。</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/video_tile.py" line="184"/>
        <source>Reconnecting video…</source>
        <translation>正在重新连接视频…</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/video_tile.py" line="320"/>
        <source> (you)</source>
        <translation>（我）</translation>
    </message>
    <message>
        <location filename="../../app/roomcall/ui/video_tile.py" line="322"/>
        <source>HOST</source>
        <translation>主持人</translation>
    </message>
</context>
</TS>
