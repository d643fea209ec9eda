<?xml version='1.0' encoding='utf-8'?>
<TS version="2.1" language="zh_CN">
<context>
    <name>CallSession</name>
    <message>
        <location filename="../../app/ui/call_session.py" line="81" />
        <source>reconnecting…</source>
        <translation>正在重连…</translation>
    </message>
    <message>
        <location filename="../../app/ui/call_session.py" line="148" />
        <source>Asking {name} to leave…</source>
        <translation>正在请 {name} 离开…</translation>
    </message>
    <message>
        <location filename="../../app/ui/call_session.py" line="177" />
        <source>{name} joined</source>
        <translation>{name} 加入了</translation>
    </message>
    <message>
        <location filename="../../app/ui/call_session.py" line="190" />
        <source>{name} left</source>
        <translation>{name} 离开了</translation>
    </message>
    <message>
        <location filename="../../app/ui/call_session.py" line="284" />
        <source>You</source>
        <translation>我</translation>
    </message>
</context>
<context>
    <name>ChatView</name>
    <message>
        <location filename="../../app/ui/chat.py" line="112" />
        <source>Send</source>
        <translation>发送</translation>
    </message>
    <message>
        <location filename="../../app/ui/chat.py" line="113" />
        <source>Write a message…</source>
        <translation>输入消息…</translation>
    </message>
</context>
<context>
    <name>Errors</name>
    <message>
        <location filename="../../app/ui/errors.py" line="18" />
        <source>This invite has expired. Ask the host for a new one.</source>
        <translation>此邀请已过期，请向主持人索取新的邀请。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="20" />
        <source>This invite is not valid for this server. Ask the host for a new one.</source>
        <translation>此邀请对该服务器无效，请向主持人索取新的邀请。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="23" />
        <source>The room is full. Try again when someone has left.</source>
        <translation>房间已满，请在有人离开后再试。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="25" />
        <source>You are already in this room from another window or device.</source>
        <translation>你已经在另一个窗口或设备上加入了这个房间。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="28" />
        <source>The host closed the room.</source>
        <translation>主持人关闭了房间。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="32" />
        <source>the room server</source>
        <translation>房间服务器</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="33" />
        <source>Could not reach {server}. Check the address and that the server is running.</source>
        <translation>无法连接 {server}。请检查地址，并确认服务器正在运行。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="36" />
        <source>The connection to the room was lost. Join again to continue.</source>
        <translation>与房间的连接已断开，请重新加入。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="39" />
        <source>The room server stopped answering. Join again to continue.</source>
        <translation>房间服务器没有响应，请重新加入。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="42" />
        <source>Only the host can do that.</source>
        <translation>只有主持人可以这样做。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="44" />
        <source>No camera could be opened. You can still join without video.</source>
        <translation>无法打开摄像头。你仍可以不带视频加入。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="47" />
        <source>No microphone could be opened. You can still join and listen.</source>
        <translation>无法打开麦克风。你仍可以加入并收听。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="50" />
        <source>The speaker could not be used. Pick another one in the room panel.</source>
        <translation>无法使用扬声器，请在房间面板中选择其他设备。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="53" />
        <source>Something went wrong. Please try again.</source>
        <translation>出错了，请重试。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="54" />
        <source>Something went wrong (error {code}). Please try again.</source>
        <translation>出错了（错误 {code}），请重试。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="60" />
        <source>The host removed you from the room.</source>
        <translation>主持人已将你移出房间。</translation>
    </message>
</context>
<context>
    <name>InviteDialog</name>
    <message>
        <location filename="../../app/ui/invite_dialog.py" line="31" />
        <source>Invite someone</source>
        <translation>邀请他人</translation>
    </message>
    <message>
        <location filename="../../app/ui/invite_dialog.py" line="34" />
        <source>Guest's name</source>
        <translation>访客姓名</translation>
    </message>
    <message>
        <location filename="../../app/ui/invite_dialog.py" line="35" />
        <source>Create link</source>
        <translation>生成链接</translation>
    </message>
    <message>
        <location filename="../../app/ui/invite_dialog.py" line="38" />
        <source>Copy</source>
        <translation>复制</translation>
    </message>
    <message>
        <location filename="../../app/ui/invite_dialog.py" line="43" />
        <source>The guest pastes the link into roomcall's join form, or runs roomcall --join LINK. It works for 24 hours.</source>
        <translation>访客把链接粘贴到 roomcall 的加入表单，或运行 roomcall --join 链接。链接 24 小时内有效。</translation>
    </message>
    <message>
        <location filename="../../app/ui/invite_dialog.py" line="49" />
        <source>This room only accepts people on this computer. To invite people on other computers, leave and start the room again with "Accept guests from other computers on the network".</source>
        <translation>此房间只接受本机上的人。要邀请其他电脑上的人，请离开后勾选“接受网络上其他电脑的访客”重新开启房间。</translation>
    </message>
    <message>
        <location filename="../../app/ui/invite_dialog.py" line="58" />
        <source>Name</source>
        <translation>姓名</translation>
    </message>
    <message>
        <location filename="../../app/ui/invite_dialog.py" line="62" />
        <source>Link</source>
        <translation>链接</translation>
    </message>
    <message>
        <location filename="../../app/ui/invite_dialog.py" line="77" />
        <source>Guest</source>
        <translation>访客</translation>
    </message>
    <message>
        <location filename="../../app/ui/invite_dialog.py" line="89" />
        <source>Copied</source>
        <translation>已复制</translation>
    </message>
</context>
<context>
    <name>JoinForm</name>
    <message>
        <location filename="../../app/ui/join_form.py" line="137" />
        <source>Guest</source>
        <translation>访客</translation>
    </message>
    <message>
        <location filename="../../app/ui/join_form.py" line="148" />
        <source>roomcall</source>
        <translation>roomcall</translation>
    </message>
    <message>
        <location filename="../../app/ui/join_form.py" line="150" />
        <source>Start a room on this computer and invite people, or join a room with the invite link you were sent.</source>
        <translation>在本机开启一个房间并邀请他人，或用收到的邀请链接加入房间。</translation>
    </message>
    <message>
        <location filename="../../app/ui/join_form.py" line="152" />
        <source>Your name</source>
        <translation>你的名字</translation>
    </message>
    <message>
        <location filename="../../app/ui/join_form.py" line="153" />
        <source>How others will see you</source>
        <translation>其他人看到的名字</translation>
    </message>
    <message>
        <location filename="../../app/ui/join_form.py" line="154" />
        <source>Start a room</source>
        <translation>开启房间</translation>
    </message>
    <message>
        <location filename="../../app/ui/join_form.py" line="155" />
        <source>Room name</source>
        <translation>房间名</translation>
    </message>
    <message>
        <location filename="../../app/ui/join_form.py" line="156" />
        <source>e.g. team-sync</source>
        <translation>例如 team-sync</translation>
    </message>
    <message>
        <location filename="../../app/ui/join_form.py" line="157" />
        <source>Accept guests from other computers on the network</source>
        <translation>接受网络上其他电脑的访客</translation>
    </message>
    <message>
        <location filename="../../app/ui/join_form.py" line="158" />
        <source>Start room</source>
        <translation>开启房间</translation>
    </message>
    <message>
        <location filename="../../app/ui/join_form.py" line="159" />
        <source>Join a room</source>
        <translation>加入房间</translation>
    </message>
    <message>
        <location filename="../../app/ui/join_form.py" line="160" />
        <source>Invite link</source>
        <translation>邀请链接</translation>
    </message>
    <message>
        <location filename="../../app/ui/join_form.py" line="161" />
        <source>roomcall://… or ws://host:port</source>
        <translation>roomcall://… 或 ws://主机:端口</translation>
    </message>
    <message>
        <location filename="../../app/ui/join_form.py" line="162" />
        <source>Token</source>
        <translation>令牌</translation>
    </message>
    <message>
        <location filename="../../app/ui/join_form.py" line="163" />
        <source>Only needed with a server address</source>
        <translation>仅在填写服务器地址时需要</translation>
    </message>
    <message>
        <location filename="../../app/ui/join_form.py" line="164" />
        <source>Join</source>
        <translation>加入</translation>
    </message>
    <message>
        <location filename="../../app/ui/join_form.py" line="165" />
        <source>No camera found: send a test pattern instead</source>
        <translation>未找到摄像头：改为发送测试图案</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../../app/ui/window.py" line="111" />
        <source>Could not start the room server on this computer: {error}</source>
        <translation>无法在本机启动房间服务器：{error}</translation>
    </message>
    <message>
        <location filename="../../app/ui/window.py" line="126" />
        <source>Paste the invite link you were sent (it starts with roomcall://), or a server address and a token.</source>
        <translation>请粘贴收到的邀请链接（以 roomcall:// 开头），或填写服务器地址和令牌。</translation>
    </message>
    <message>
        <location filename="../../app/ui/window.py" line="279" />
        <source>roomcall</source>
        <translation>roomcall</translation>
    </message>
    <message>
        <location filename="../../app/ui/window.py" line="280" />
        <source>roomcall: {room}</source>
        <translation>roomcall：{room}</translation>
    </message>
    <message>
        <location filename="../../app/ui/window.py" line="283" />
        <source>&amp;Room</source>
        <translation>房间(&amp;R)</translation>
    </message>
    <message>
        <location filename="../../app/ui/window.py" line="284" />
        <source>&amp;Language</source>
        <translation>语言(&amp;L)</translation>
    </message>
    <message>
        <location filename="../../app/ui/window.py" line="285" />
        <source>&amp;Invite…</source>
        <translation>邀请(&amp;I)…</translation>
    </message>
    <message>
        <location filename="../../app/ui/window.py" line="286" />
        <source>L&amp;eave</source>
        <translation>离开(&amp;E)</translation>
    </message>
    <message>
        <location filename="../../app/ui/window.py" line="287" />
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
</context>
<context>
    <name>RoomPanel</name>
    <message>
        <location filename="../../app/ui/room_panel.py" line="193" />
        <source>{name} (you)</source>
        <translation>{name}（我）</translation>
    </message>
    <message>
        <location filename="../../app/ui/room_panel.py" line="202" />
        <location filename="../../app/ui/room_panel.py" line="304" />
        <source>HOST</source>
        <translation>主持人</translation>
    </message>
    <message>
        <location filename="../../app/ui/room_panel.py" line="203" />
        <location filename="../../app/ui/room_panel.py" line="305" />
        <source>Kick</source>
        <translation>移出</translation>
    </message>
    <message>
        <location filename="../../app/ui/room_panel.py" line="239" />
        <source>None found</source>
        <translation>未找到</translation>
    </message>
    <message>
        <location filename="../../app/ui/room_panel.py" line="279" />
        <source>Room</source>
        <translation>房间</translation>
    </message>
    <message>
        <location filename="../../app/ui/room_panel.py" line="281" />
        <location filename="../../app/ui/room_panel.py" line="282" />
        <source>Connected</source>
        <translation>已连接</translation>
    </message>
    <message>
        <location filename="../../app/ui/room_panel.py" line="283" />
        <source>Connecting…</source>
        <translation>正在连接…</translation>
    </message>
    <message>
        <location filename="../../app/ui/room_panel.py" line="284" />
        <source>Connection lost, reconnecting…</source>
        <translation>连接中断，正在重连…</translation>
    </message>
    <message>
        <location filename="../../app/ui/room_panel.py" line="285" />
        <source>Not connected</source>
        <translation>未连接</translation>
    </message>
    <message>
        <location filename="../../app/ui/room_panel.py" line="292" />
        <source>Mic on</source>
        <translation>麦克风开</translation>
    </message>
    <message>
        <location filename="../../app/ui/room_panel.py" line="292" />
        <source>Mic off</source>
        <translation>麦克风关</translation>
    </message>
    <message>
        <location filename="../../app/ui/room_panel.py" line="294" />
        <source>Camera on</source>
        <translation>摄像头开</translation>
    </message>
    <message>
        <location filename="../../app/ui/room_panel.py" line="294" />
        <source>Camera off</source>
        <translation>摄像头关</translation>
    </message>
    <message>
        <location filename="../../app/ui/room_panel.py" line="295" />
        <source>Invite…</source>
        <translation>邀请…</translation>
    </message>
    <message>
        <location filename="../../app/ui/room_panel.py" line="296" />
        <source>Leave</source>
        <translation>离开</translation>
    </message>
    <message>
        <location filename="../../app/ui/room_panel.py" line="297" />
        <source>People</source>
        <translation>成员</translation>
    </message>
    <message>
        <location filename="../../app/ui/room_panel.py" line="298" />
        <source>Devices</source>
        <translation>设备</translation>
    </message>
    <message>
        <location filename="../../app/ui/room_panel.py" line="299" />
        <source>Chat</source>
        <translation>聊天</translation>
    </message>
    <message>
        <location filename="../../app/ui/room_panel.py" line="300" />
        <source>Camera</source>
        <translation>摄像头</translation>
    </message>
    <message>
        <location filename="../../app/ui/room_panel.py" line="300" />
        <source>Microphone</source>
        <translation>麦克风</translation>
    </message>
    <message>
        <location filename="../../app/ui/room_panel.py" line="301" />
        <source>Speaker</source>
        <translation>扬声器</translation>
    </message>
</context>
<context>
    <name>VideoTile</name>
    <message>
        <location filename="../../app/ui/video_tile.py" line="237" />
        <source> (you)</source>
        <translation>（我）</translation>
    </message>
    <message>
        <location filename="../../app/ui/video_tile.py" line="239" />
        <source>HOST</source>
        <translation>主持人</translation>
    </message>
</context>
</TS>